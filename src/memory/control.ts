import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../core/identity.js';
import { Conversation, Message, type IConversation } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import { isMemoryPaused } from './memorize.js';
import { BUMP_FORGOTTEN, summaryOf } from './summary.js';
import { uuidArray } from '../core/uuid.js';

/** What /memory forget removes: one message, the messages after a time, or everything. */
export type ForgetRange = { discordMessageId: string } | { since: Date } | { everything: true };

/** The conversation of a channel, thread or DM (bound to a character or a scene), or a plain error. */
export async function conversationIn(em: EntityManager, channelId: string): Promise<IConversation> {
  const conversation = (await em.findOne(
    Conversation,
    { discordChannelId: channelId },
    { populate: ['character', 'user'] },
  )) as IConversation | null;
  if (!conversation) throw new UserError('Nothing has been said with a character here yet.');
  return conversation;
}

/** Who may forget, pause or edit the memory of a whole conversation: who started it, a server admin, or anyone in their own DM. */
export function canManageMemory(actor: Actor, conversation: IConversation): boolean {
  return conversation.kind === 'dm' || actor.isGuildAdmin || conversation.user?.id === actor.user.id;
}

export function assertCanManageMemory(actor: Actor, conversation: IConversation): void {
  if (!canManageMemory(actor, conversation)) {
    throw new UserError('Only the person who started this conversation or a server admin (Manage Server) can change its memory.');
  }
}

/**
 * Forgets for real: deletes the messages, their replies' alternatives and
 * every memory made from them. A person may always forget their own message;
 * a range or everything needs canManageMemory. A summary that may hold what
 * was forgotten (it covers messages up to one forgotten) is deleted too.
 */
export async function forget(
  em: EntityManager,
  actor: Actor,
  conversation: IConversation,
  range: ForgetRange,
): Promise<{ messages: number; memories: number; summaryCleared: boolean }> {
  let where: Record<string, unknown>;
  if ('discordMessageId' in range) {
    // A long reply is shown as several Discord messages; any of them names it.
    const [message] = await em.execute<{ id: string; author_id: string | null }[]>(
      `select id, author_id from messages where conversation_id = ?
          and (discord_message_id = ? or metadata->'discordMessageIds' @> ?::jsonb) limit 1`,
      [conversation.id, range.discordMessageId, JSON.stringify([range.discordMessageId])],
    );
    if (!message) throw new UserError('That message is not part of this conversation’s memory (or was already forgotten).');
    if (message.author_id !== actor.user.id) assertCanManageMemory(actor, conversation);
    where = { id: message.id };
  } else {
    assertCanManageMemory(actor, conversation);
    where = 'since' in range ? { conversation: conversation.id, createdAt: { $gte: range.since } } : { conversation: conversation.id };
  }
  return em.transactional(async (tx) => {
    const doomed = await tx.find(Message, where, { fields: ['id', 'createdAt'] });
    return removeMessages(tx, conversation.id, doomed, { everything: 'everything' in range });
  });
}

/**
 * Deletes messages of one conversation, every memory quoting them, and the running summary when it covers any of
 * them (the next summary is written again from what is left). Call inside a transaction. The memories are deleted
 * again after the messages: a memorize job holds the rows of its exchange locked until its memory is stored, so the
 * message delete waits for it and the second pass sees its memory, or the job finds the message gone (memorize.ts).
 */
export async function removeMessages(
  tx: EntityManager,
  conversationId: string,
  doomed: { id: string; createdAt: Date }[],
  options: { everything?: boolean } = {},
): Promise<{ messages: number; memories: number; summaryCleared: boolean }> {
  if (!doomed.length) return { messages: 0, memories: 0, summaryCleared: false };
  const ids = doomed.map((message) => message.id);
  // Memories of a reply (message_id) or quoting a message (metadata.messageIds); before and again after the messages go.
  const deleteQuoting = () =>
    tx.execute<{ affectedRows: number }>(
      `delete from vector_memories where conversation_id = ?
          and (message_id = any(?::uuid[]) or jsonb_exists_any(metadata->'messageIds', ?::text[]))`,
      [conversationId, uuidArray(ids), uuidArray(ids)],
      'run',
    );
  const before = await deleteQuoting();
  // Notes about a person go with any message they came from (all of this conversation's, when forgetting everything).
  await tx.execute(
    `delete from person_notes where conversation_id = ? and (jsonb_exists_any(message_ids, ?::text[]) or ?)`,
    [conversationId, uuidArray(ids), options.everything === true],
    'run',
  );
  // A pinned message is unpinned by being deleted (messages.pinned_at).
  const messages = await tx.nativeDelete(Message, { id: { $in: ids } });
  const quoted = { affectedRows: before.affectedRows + (await deleteQuoting()).affectedRows };
  // Locked, then read as a summarize job may just have stored it; one that stores later sees the count bumped (summary.ts).
  const [row] = await tx.execute<{ settings: Record<string, unknown> }[]>('select settings from conversations where id = ? for update', [
    conversationId,
  ]);
  const summary = summaryOf({ settings: row?.settings ?? {} });
  const oldest = Math.min(...doomed.map((message) => message.createdAt.getTime()));
  // A summary written by hand before any was made covers nothing in particular: it stays.
  const summaryCleared = Boolean(summary?.upToAt && oldest <= new Date(summary.upToAt).getTime());
  await tx.execute(
    `update conversations set settings = (case when ?::boolean then settings - 'summary' else settings end) || ${BUMP_FORGOTTEN},
            message_count = greatest(0, message_count - ?) where id = ?`,
    [summaryCleared, messages, conversationId],
    'run',
  );
  return { messages, memories: quoted.affectedRows, summaryCleared };
}

/** Pauses or resumes memory for a conversation: while paused, nothing new is remembered or summarised. */
export async function setMemoryPaused(em: EntityManager, actor: Actor, conversation: IConversation, paused: boolean): Promise<boolean> {
  assertCanManageMemory(actor, conversation);
  const was = isMemoryPaused(await freshSettings(em, conversation.id));
  await em.execute(
    `update conversations set settings = jsonb_set(coalesce(settings, '{}'::jsonb), '{memoryPaused}', ?::jsonb), updated_at = now() where id = ?`,
    [JSON.stringify(paused), conversation.id],
    'run',
  );
  return was !== paused;
}

/**
 * The conversation as JSON Lines, oldest first: one object per message with
 * who said it and when. Streams in pages so a long conversation stays small in memory.
 */
export async function* exportConversation(em: EntityManager, conversation: IConversation): AsyncGenerator<string> {
  let after: { createdAt: Date; id: string } | undefined;
  for (;;) {
    const page = await em.find(
      Message,
      after
        ? {
            conversation: conversation.id,
            $or: [{ createdAt: { $gt: after.createdAt } }, { createdAt: after.createdAt, id: { $gt: after.id } }],
          }
        : { conversation: conversation.id },
      { orderBy: { createdAt: 'asc', id: 'asc' }, limit: 500, populate: ['character'] },
    );
    for (const message of page) {
      yield `${JSON.stringify({
        at: message.createdAt.toISOString(),
        role: message.role,
        speaker: message.role === 'assistant' ? (message.character?.name ?? null) : message.authorName,
        content: message.content,
        discordMessageId: message.discordMessageId ?? null,
        model: message.model ?? undefined,
        pinned: message.pinnedAt ? true : undefined,
      })}\n`;
    }
    if (page.length < 500) return;
    after = { createdAt: page.at(-1)!.createdAt, id: page.at(-1)!.id };
  }
}

/** The conversation's settings as stored now (another process may have changed them). */
async function freshSettings(em: EntityManager, conversationId: string): Promise<{ settings: Record<string, unknown> }> {
  const [row] = await em.execute<{ settings: Record<string, unknown> | null }[]>('select settings from conversations where id = ?', [
    conversationId,
  ]);
  return { settings: row?.settings ?? {} };
}
