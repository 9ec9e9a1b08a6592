import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../core/identity.js';
import { Conversation, Message, Persona, User, type IConversation } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import { isMemoryPaused } from './memorize.js';
import { SETTINGS_WITHOUT_SUMMARY, summaryOf } from './summary.js';

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
      [conversationId, pgArray(ids), pgArray(ids)],
      'run',
    );
  const before = await deleteQuoting();
  // Notes about a person go with any message they came from (all of this conversation's, when forgetting everything).
  await tx.execute(
    `delete from person_notes where conversation_id = ? and (jsonb_exists_any(message_ids, ?::text[]) or ?)`,
    [conversationId, pgArray(ids), options.everything === true],
    'run',
  );
  // A pinned message is unpinned by being deleted (messages.pinned_at).
  const messages = await tx.nativeDelete(Message, { id: { $in: ids } });
  const quoted = { affectedRows: before.affectedRows + (await deleteQuoting()).affectedRows };
  const summary = summaryOf(await freshSettings(tx, conversationId));
  const oldest = Math.min(...doomed.map((message) => message.createdAt.getTime()));
  // A summary written by hand before any was made covers nothing in particular: it stays.
  const summaryCleared = Boolean(summary?.upToAt && oldest <= new Date(summary.upToAt).getTime());
  if (summaryCleared) {
    await tx.execute(`update conversations set settings = ${SETTINGS_WITHOUT_SUMMARY} where id = ?`, [conversationId], 'run');
  }
  await tx.execute(
    `update conversations set message_count = greatest(0, message_count - ?) where id = ?`,
    [messages, conversationId],
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

/**
 * Deletes everything of a person: their messages, the character replies written to answer them (which may retell
 * what they said), every memory of or quoting them, summaries covering their messages, their characters (with their
 * knowledge and conversations), their provider keys, their personas, and their user row. Conversations they started
 * in shared channels stay for the others, without their messages. Their usage counters are in Redis or memory:
 * UsageBudget.forgetUser, called beside this.
 */
export async function deleteUserData(
  em: EntityManager,
  userId: string,
): Promise<{ messages: number; replies: number; memories: number; characterIds: string[] }> {
  return em.transactional(async (tx) => {
    // Their characters go with the user row; their ids let the caller drop what lives outside the database (pictures).
    const characters = await tx.execute<{ id: string }[]>('select id from characters where user_id = ?', [userId]);
    const touched = await tx.execute<{ conversation_id: string }[]>('select distinct conversation_id from messages where author_id = ?', [
      userId,
    ]);
    const deleteMemories = () =>
      tx.execute<{ affectedRows: number }>(
        `delete from vector_memories where user_id = ?
            or (memory_type = 'conversation' and jsonb_exists(metadata->'userIds', ?))`,
        [userId, userId],
        'run',
      );
    const before = await deleteMemories();
    // Notes about them, and notes about others that came from their messages.
    await tx.execute(
      `delete from person_notes where user_id = ?
          or jsonb_exists_any(message_ids, array(select id::text from messages where author_id = ?))`,
      [userId, userId],
      'run',
    );
    const replies = await tx.execute<{ affectedRows: number }>(
      `delete from messages r where r.role = 'assistant' and r.conversation_id in (select conversation_id from messages where author_id = ?)
          and (r.metadata->>'answered' = ?
               or (r.metadata->>'answered' is null and (
                     select m.author_id from messages m
                      where m.conversation_id = r.conversation_id and m.role = 'user' and (m.created_at, m.id) < (r.created_at, r.id)
                      order by m.created_at desc, m.id desc limit 1) = ?))`,
      [userId, userId, userId],
      'run',
    );
    // Before their messages go (summaries covering them are found by their times), after the replies that name them.
    await forgetTracesOf(tx, userId);
    // Again after the messages: a memorize job holding them locked stores its memory first, and it is deleted here.
    const messages = await tx.nativeDelete(Message, { author: userId });
    const memories = { affectedRows: before.affectedRows + (await deleteMemories()).affectedRows };
    if (touched.length) {
      await tx.execute(
        `update conversations c set message_count = (select count(*) from messages m where m.conversation_id = c.id) where c.id = any(?::uuid[])`,
        [pgArray(touched.map((row) => row.conversation_id))],
        'run',
      );
    }
    await tx.nativeDelete(Conversation, { user: userId, kind: 'dm' });
    // Their personas and where they wore them (the user row's cascade would take them too; said here so it is plain).
    await tx.nativeDelete(Persona, { user: userId });
    await tx.nativeDelete(User, { id: userId });
    return { messages, replies: replies.affectedRows, memories: memories.affectedRows, characterIds: characters.map((row) => row.id) };
  });
}

/**
 * What else holds a person once their messages go: running summaries that
 * cover any of their messages (deleted: they may retell them), and their
 * internal id in replies' and alternatives' metadata (who a reply answered and was
 * spent for, which of their memories went into it, who last edited a summary).
 */
async function forgetTracesOf(tx: EntityManager, userId: string): Promise<void> {
  await tx.execute(
    `update conversations c set settings = ${SETTINGS_WITHOUT_SUMMARY}, updated_at = now()
      where c.settings->'summary'->>'upToAt' is not null
        and exists (select 1 from messages m where m.conversation_id = c.id and m.author_id = ?
                      and m.created_at <= (c.settings->'summary'->>'upToAt')::timestamptz)`,
    [userId],
    'run',
  );
  await tx.execute(
    `update conversations set settings = settings #- '{summary,editedBy}' where settings->'summary'->>'editedBy' = ?`,
    [userId],
    'run',
  );
  const others = `(select coalesce(jsonb_agg(e), '[]'::jsonb) from jsonb_array_elements(%s) e where e->>'userId' is distinct from ?)`;
  await tx.execute(
    `update messages set metadata = case when metadata->'spent'->>'by' = ? then metadata #- '{spent,by}' else metadata end
                                  - case when metadata->>'answered' = ? then 'answered' else '' end
                                  || case when jsonb_typeof(metadata->'sources') = 'array'
                                          then jsonb_build_object('sources', ${others.replace('%s', `metadata->'sources'`)}) else '{}'::jsonb end
      where metadata->'spent'->>'by' = ? or metadata->>'answered' = ?
         or metadata->'sources' @> jsonb_build_array(jsonb_build_object('userId', ?::text))`,
    [userId, userId, userId, userId, userId, userId],
    'run',
  );
  await tx.execute(
    `update story_branches set generation_params = generation_params || jsonb_build_object('sources', ${others.replace('%s', `generation_params->'sources'`)})
      where generation_params->'sources' @> jsonb_build_array(jsonb_build_object('userId', ?::text))`,
    [userId, userId],
    'run',
  );
}

/** A PostgreSQL array literal of ids (uuids: no quoting needed). */
function pgArray(ids: string[]): string {
  return `{${ids.join(',')}}`;
}

/** The conversation's settings as stored now (another process may have changed them). */
async function freshSettings(em: EntityManager, conversationId: string): Promise<{ settings: Record<string, unknown> }> {
  const [row] = await em.execute<{ settings: Record<string, unknown> | null }[]>('select settings from conversations where id = ?', [
    conversationId,
  ]);
  return { settings: row?.settings ?? {} };
}
