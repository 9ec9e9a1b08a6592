import type { EntityManager } from '@mikro-orm/postgresql';
import { Message, type IConversation, type IMessage, type IUser } from '../db/entities/index.js';
import { withoutNul } from '../core/text.js';
import type { HistoryEntry } from './prompt.js';

/**
 * Stores what a person said, in one round trip. Safe to call twice for one
 * Discord message: the unique Discord id makes the second insert a no-op.
 */
export async function storeUserMessage(
  em: EntityManager,
  input: { conversation: IConversation; author: IUser; authorName: string; content: string; discordMessageId?: string },
): Promise<{ id: string; createdAt: Date } | undefined> {
  const [row] = await em.execute<{ id: string; created_at: Date | string }[]>(
    `insert into messages (conversation_id, role, content, author_id, author_name, discord_message_id)
     values (?, 'user', ?, ?, ?, ?) on conflict (discord_message_id) do nothing returning id, created_at`,
    [input.conversation.id, withoutNul(input.content), input.author.id, withoutNul(input.authorName).slice(0, 100), input.discordMessageId ?? null],
  );
  return row ? { id: row.id, createdAt: new Date(row.created_at) } : undefined;
}

/**
 * The last `limit` messages of a conversation, oldest first, as the prompt
 * builder reads them; with `since`, only those written from then on.
 */
export async function recentHistory(em: EntityManager, conversationId: string, limit: number, since?: Date): Promise<HistoryEntry[]> {
  const rows = await em.find(
    Message,
    since ? { conversation: conversationId, createdAt: { $gte: since } } : { conversation: conversationId },
    {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit,
      fields: ['id', 'role', 'content', 'authorName', 'createdAt', 'character.name'],
    },
  );
  return rows.reverse().map(toHistoryEntry);
}

function toHistoryEntry(
  row: Pick<IMessage, 'id' | 'role' | 'content' | 'authorName' | 'createdAt'> & { character?: { name: string } | null },
): HistoryEntry {
  return {
    id: row.id,
    at: row.createdAt,
    role: row.role,
    speaker: row.role === 'assistant' ? (row.character?.name ?? 'Character') : (row.authorName ?? 'Someone'),
    content: row.content,
  };
}

/** A person edited their Discord message: the history follows. Returns false when it was never stored. */
export async function editUserMessage(em: EntityManager, discordMessageId: string, content: string): Promise<boolean> {
  const updated = await em.nativeUpdate(Message, { discordMessageId, role: 'user' }, { content: withoutNul(content) });
  return updated > 0;
}

/** A person deleted their Discord message: it leaves the history, and so does every memory quoting it. */
export async function deleteUserMessage(em: EntityManager, discordMessageId: string): Promise<boolean> {
  const message = await em.findOne(Message, { discordMessageId, role: 'user' }, { fields: ['id', 'conversation'] });
  if (!message) return false;
  await em.execute(
    `delete from vector_memories where conversation_id = ? and jsonb_exists(metadata->'messageIds', ?)`,
    [message.conversation.id, message.id],
    'run',
  );
  await em.nativeDelete(Message, { id: message.id });
  return true;
}

/** The messages before `message` (for regenerating it), oldest first; with `since`, only those from then on. */
export async function historyBefore(em: EntityManager, message: IMessage, limit: number, since?: Date): Promise<HistoryEntry[]> {
  const rows = await em.find(
    Message,
    { conversation: message.conversation.id, createdAt: since ? { $lt: message.createdAt, $gte: since } : { $lt: message.createdAt } },
    {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit,
      fields: ['id', 'role', 'content', 'authorName', 'createdAt', 'character.name'],
    },
  );
  return rows.reverse().map(toHistoryEntry);
}
