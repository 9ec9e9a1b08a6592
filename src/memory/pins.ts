import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../core/identity.js';
import type { PromptPin } from '../chat/prompt.js';
import type { IConversation } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import { assertCanManageMemory } from './control.js';
import { speakerName } from '../core/speaker.js';

/** Pinned messages per conversation, at most: each is in every prompt, so a few. */
export const PINS_PER_CONVERSATION = 5;
/** Longest text of a pinned message in the prompt. */
const PIN_CHARS = 1000;

/** A pinned message, for /memory pins and the prompt. */
export interface PinnedMessage {
  id: string;
  speaker: string;
  content: string;
  discordMessageId?: string;
  pinnedAt: Date;
}

/**
 * Pins a message of this conversation (a link or id of any of the Discord messages it is shown as), so every reply
 * here has it in mind. A person may pin their own messages and the replies to them; anything else needs whoever
 * started the conversation, a server admin, or their own DM. Only messages of this conversation can be pinned,
 * so a pin never carries text to people who could not read it.
 */
export async function pinMessage(
  em: EntityManager,
  actor: Actor,
  conversation: IConversation,
  discordMessageId: string,
): Promise<PinnedMessage> {
  const message = await messageByDiscordId(em, conversation, discordMessageId);
  if (message.author_id !== actor.user.id && message.answered !== actor.user.id) assertCanManageMemory(actor, conversation);
  if (message.pinned_at) throw new UserError('That message is already pinned here.');
  const [{ count } = { count: 0 }] = await em.execute<{ count: number }[]>(
    'select count(*)::int as count from messages where conversation_id = ? and pinned_at is not null',
    [conversation.id],
  );
  if (count >= PINS_PER_CONVERSATION) {
    throw new UserError(`This conversation already has ${PINS_PER_CONVERSATION} pinned messages. Unpin one first (/memory unpin).`);
  }
  await em.execute('update messages set pinned_at = now() where id = ?', [message.id], 'run');
  return (await pinsOf(em, conversation.id)).find((pin) => pin.id === message.id)!;
}

/** Unpins a message of this conversation; the same people who may pin it may unpin it. */
export async function unpinMessage(em: EntityManager, actor: Actor, conversation: IConversation, discordMessageId: string): Promise<void> {
  const message = await messageByDiscordId(em, conversation, discordMessageId);
  if (!message.pinned_at) throw new UserError('That message is not pinned here.');
  if (message.author_id !== actor.user.id && message.answered !== actor.user.id) assertCanManageMemory(actor, conversation);
  await em.execute('update messages set pinned_at = null where id = ?', [message.id], 'run');
}

/** The conversation's pinned messages, oldest pin first. */
export async function pinsOf(em: EntityManager, conversationId: string): Promise<PinnedMessage[]> {
  const rows = await em.execute<
    {
      id: string;
      role: string;
      content: string;
      author_name: string | null;
      character_name: string | null;
      discord_message_id: string | null;
      pinned_at: Date;
    }[]
  >(
    `select m.id, m.role, m.content, m.author_name, c.name as character_name, m.discord_message_id, m.pinned_at
       from messages m left join characters c on c.id = m.character_id
      where m.conversation_id = ? and m.pinned_at is not null
      order by m.pinned_at, m.id limit ${PINS_PER_CONVERSATION}`,
    [conversationId],
  );
  return rows.map((row) => ({
    id: row.id,
    speaker: speakerName(row.role, row.character_name, row.author_name),
    content: row.content,
    ...(row.discord_message_id ? { discordMessageId: row.discord_message_id } : {}),
    pinnedAt: new Date(row.pinned_at),
  }));
}

/** The pinned messages as the prompt shows them. */
export async function pinsForPrompt(em: EntityManager, conversationId: string): Promise<PromptPin[]> {
  return (await pinsOf(em, conversationId)).map((pin) => ({
    id: pin.id,
    speaker: pin.speaker,
    content: pin.content.length > PIN_CHARS ? `${pin.content.slice(0, PIN_CHARS)}…` : pin.content,
  }));
}

async function messageByDiscordId(
  em: EntityManager,
  conversation: IConversation,
  discordMessageId: string,
): Promise<{ id: string; author_id: string | null; answered: string | null; pinned_at: Date | null }> {
  // A long reply is shown as several Discord messages; any of them names it.
  const [message] = await em.execute<{ id: string; author_id: string | null; answered: string | null; pinned_at: Date | null }[]>(
    `select id, author_id, metadata->>'answered' as answered, pinned_at from messages where conversation_id = ?
        and (discord_message_id = ? or metadata->'discordMessageIds' @> ?::jsonb) limit 1`,
    [conversation.id, discordMessageId, JSON.stringify([discordMessageId])],
  );
  if (!message)
    throw new UserError('That message is not part of this conversation (or was forgotten). Only messages said here can be pinned here.');
  return message;
}
