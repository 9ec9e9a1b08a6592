import type { EntityManager } from '@mikro-orm/postgresql';
import { Message, type IConversation, type IMessage, type IUser } from '../db/entities/index.js';
import { withoutNul } from '../core/text.js';
import { removeMessages } from '../memory/control.js';
import { queueMemorize } from '../memory/memorize.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { HistoryEntry } from './prompt.js';
import { speakerName } from '../core/speaker.js';

/**
 * How many stored messages the prompt builder is offered at most. The window itself is chosen by tokens
 * (src/chat/prompt.ts); this only bounds the query on very long conversations.
 */
export const HISTORY_FETCH_LIMIT = 400;

/** How many messages a conversation has (SillyTavern's chat.length, for lore's timed effects). */
export async function messageCount(em: EntityManager, conversationId: string): Promise<number> {
  const [row] = await em.execute<{ count: string | number }[]>(`select count(*) as count from messages where conversation_id = ?`, [
    conversationId,
  ]);
  return Number(row?.count ?? 0);
}

/**
 * Stores what a person said, in one round trip. Safe to call twice for one
 * Discord message: the unique Discord id makes the second insert a no-op.
 * `authorName` is the speaker's name (a persona's, when they wear one); the
 * author stays the real person, and `metadata` says which persona spoke.
 */
export async function storeUserMessage(
  em: EntityManager,
  input: {
    conversation: IConversation;
    author: IUser;
    authorName: string;
    content: string;
    discordMessageId?: string;
    metadata?: Record<string, unknown>;
  },
): Promise<{ id: string; createdAt: Date } | undefined> {
  const [row] = await em.execute<{ id: string; created_at: Date | string }[]>(
    `insert into messages (conversation_id, role, content, author_id, author_name, discord_message_id, metadata)
     values (?, 'user', ?, ?, ?, ?, ?) on conflict (discord_message_id) do nothing returning id, created_at`,
    [
      input.conversation.id,
      withoutNul(input.content),
      input.author.id,
      withoutNul(input.authorName).slice(0, 100),
      input.discordMessageId ?? null,
      JSON.stringify(input.metadata ?? {}),
    ],
  );
  return row ? { id: row.id, createdAt: new Date(row.created_at) } : undefined;
}

/**
 * The last `limit` messages of a conversation, oldest first, as the prompt
 * builder reads them; with `since`, only those written from then on.
 */
export async function recentHistory(em: EntityManager, conversationId: string, limit: number, since?: Date): Promise<HistoryEntry[]> {
  return historyRows(em, conversationId, limit, { since });
}

/**
 * The newest `limit` messages of a conversation that match `before` / `since`,
 * oldest first. Plain SQL: on every reply's path, and hydrating sixty
 * entities cost 3 ms of the bot's overhead where the query takes 0.6 ms.
 */
async function historyRows(
  em: EntityManager,
  conversationId: string,
  limit: number,
  range: { before?: Date; since?: Date },
): Promise<HistoryEntry[]> {
  const rows = await em.execute<HistoryRow[]>(
    `select m.id, m.role, m.content, m.author_id, m.author_name, m.created_at, c.name as character_name, m.metadata -> 'persona' as persona
       from messages m left join characters c on c.id = m.character_id
      where m.conversation_id = ?${range.before ? ' and m.created_at < ?' : ''}${range.since ? ' and m.created_at >= ?' : ''}
      order by m.created_at desc, m.id desc
      limit ?`,
    [conversationId, ...(range.before ? [range.before] : []), ...(range.since ? [range.since] : []), limit],
  );
  return rows.reverse().map(toHistoryEntry);
}

interface HistoryRow {
  id: string;
  role: HistoryEntry['role'];
  content: string;
  author_id: string | null;
  author_name: string | null;
  created_at: Date | string;
  character_name: string | null;
  persona: { id: string; nsfw?: boolean } | null;
}

function toHistoryEntry(row: HistoryRow): HistoryEntry {
  return {
    id: row.id,
    at: new Date(row.created_at),
    role: row.role,
    speaker: speakerName(row.role, row.character_name, row.author_name),
    content: row.content,
    ...(row.author_id ? { authorId: row.author_id } : {}),
    ...(row.persona?.id ? { persona: { id: row.persona.id, nsfw: row.persona.nsfw === true } } : {}),
  };
}

/**
 * A person edited their Discord message: the history follows, and so do the
 * memories of the exchanges that quote it (their replies are memorized again,
 * from the stored messages as they are now). Returns false when it was never stored.
 */
export async function editUserMessage(em: EntityManager, discordMessageId: string, content: string, queue?: JobQueue): Promise<boolean> {
  const [edited] = await em.execute<{ id: string; conversation_id: string }[]>(
    `update messages set content = ? where discord_message_id = ? and role = 'user' returning id, conversation_id`,
    [withoutNul(content), discordMessageId],
  );
  if (!edited) return false;
  if (queue) {
    const quoting = await em.execute<{ message_id: string }[]>(
      `select distinct message_id from vector_memories
        where conversation_id = ? and message_id is not null and jsonb_exists(metadata->'messageIds', ?)`,
      [edited.conversation_id, edited.id],
    );
    for (const { message_id: replyId } of quoting) await queueMemorize(queue, { id: replyId });
  }
  return true;
}

/** A person deleted their Discord message: it leaves the history, with every memory quoting it and the summary covering it. */
export async function deleteUserMessage(em: EntityManager, discordMessageId: string): Promise<boolean> {
  const message = await em.findOne(Message, { discordMessageId, role: 'user' }, { fields: ['id', 'conversation', 'createdAt'] });
  if (!message) return false;
  await em.transactional((tx) => removeMessages(tx, message.conversation.id, [message]));
  return true;
}

/** The messages before `message` (for regenerating it), oldest first; with `since`, only those from then on. */
export async function historyBefore(em: EntityManager, message: IMessage, limit: number, since?: Date): Promise<HistoryEntry[]> {
  return historyRows(em, message.conversation.id, limit, { before: message.createdAt, since });
}
