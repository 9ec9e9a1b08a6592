import type { EntityManager } from '@mikro-orm/postgresql';
import { CharacterKnowledge, Message, VectorMemory, type IConversation } from '../db/entities/index.js';
import type { Actor } from '../core/identity.js';
import { UserError } from '../errors.js';
import type { ModelResolver } from './responder.js';

/** What /chat status shows: which model answers here and what the character remembers. */
export async function chatStatus(
  em: EntityManager,
  input: { actor: Actor; conversation: IConversation; resolveModel: ModelResolver },
): Promise<{ model: string; memory: string }> {
  const character = input.conversation.character!;
  let model: string;
  try {
    const resolved = await input.resolveModel({ actor: input.actor, character });
    model = `${resolved.model} (${resolved.provider.type})`;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    model = error.message;
  }
  const [messages, memories, knowledge] = await Promise.all([
    em.count(Message, { conversation: input.conversation.id }),
    em.count(VectorMemory, { conversation: input.conversation.id }),
    em.count(CharacterKnowledge, { character: character.id, status: 'completed' }),
  ]);
  const enabled = character.config.memory_enabled !== false;
  return {
    model,
    memory:
      `${messages} messages here, ${memories} conversation memories, ${knowledge} knowledge sources.` +
      (enabled ? '' : ' Memory is turned off for this character.'),
  };
}
