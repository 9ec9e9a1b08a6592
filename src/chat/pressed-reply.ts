import type { EntityManager } from '@mikro-orm/postgresql';
import { Message, type ICharacter, type IConversation, type IMessage } from '../db/entities/index.js';
import { isUuid } from '../core/uuid.js';
import { UserError } from '../errors.js';

/** What a button or form naming a reply of somewhere else is told: nothing about that reply, not even that it exists. */
const NOT_A_REPLY_HERE = 'That button does not belong to a reply in this channel, so it does nothing here.';

/**
 * The character reply a button or form names (its id arrives in a custom_id,
 * which a modified client can forge), looked up only in the conversation of
 * the channel, thread or DM where it was pressed: a reply of another server,
 * channel or DM is never shown, rewritten or regenerated from here.
 */
export async function replyPressedIn(
  em: EntityManager,
  replyId: string,
  channelId: string,
): Promise<{ reply: IMessage; character: ICharacter; conversation: IConversation }> {
  const reply = isUuid(replyId)
    ? ((await em.findOne(
        Message,
        { id: replyId, role: 'assistant', conversation: { discordChannelId: channelId } },
        { populate: ['conversation', 'character'] },
      )) as IMessage | null)
    : null;
  if (!reply?.character) throw new UserError(NOT_A_REPLY_HERE);
  return { reply, character: reply.character, conversation: reply.conversation as IConversation };
}
