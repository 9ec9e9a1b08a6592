import type { EntityManager } from '@mikro-orm/postgresql';
import { Conversation, Message, Persona, User } from '../db/entities/index.js';
import { removeQuotesOf, type SpokenIn } from './quotes.js';
import { BUMP_FORGOTTEN } from './summary.js';
import { uuidArray } from '../core/uuid.js';

/**
 * Deletes everything of a person: their messages, the character replies written to answer them (which may retell
 * what they said), every memory of or quoting them, summaries covering their messages, their characters (with their
 * knowledge and conversations), their provider keys, their personas, and their user row. Conversations they started
 * in shared channels stay for the others, without their messages, and what the character or a summary repeated of
 * their words there is blanked out (quotes.ts). Their usage counters are in Redis or memory: UsageBudget.forgetUser,
 * called beside this; the replies named in `rememorize` lost a memory that quoted them and should be memorized again.
 */
export async function deleteUserData(
  em: EntityManager,
  userId: string,
): Promise<{ messages: number; replies: number; memories: number; rewritten: number; rememorize: string[]; characterIds: string[] }> {
  return em.transactional(async (tx) => {
    // Their characters go with the user row; their ids let the caller drop what lives outside the database (pictures).
    const characters = await tx.execute<{ id: string }[]>('select id from characters where user_id = ?', [userId]);
    // Where they spoke, since when and what: a running summary reaching that far covers their messages; what the
    // character repeated of their words is found by those words.
    const touched = await tx.execute<SpokenIn[]>(
      `select conversation_id, min(created_at) as since, array_agg(content) as texts from messages where author_id = ? group by conversation_id`,
      [userId],
    );
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
    // Before their messages go (quotes are found by their words), after the replies that name them.
    await forgetTracesOf(tx, userId);
    const quotes = await removeQuotesOf(tx, userId, touched);
    // Again after the messages: a memorize job holding them locked stores its memory first, and it is deleted here.
    const messages = await tx.nativeDelete(Message, { author: userId });
    const memories = { affectedRows: before.affectedRows + (await deleteMemories()).affectedRows };
    if (touched.length) {
      // After the messages, so a summary a summarize job stored meanwhile is seen; one it stores later is refused (the
      // count of deletions moved: summary.ts).
      await tx.execute(
        `update conversations c
            set settings = (case when (settings->'summary'->>'upToAt')::timestamptz >= t.since then settings - 'summary' else settings end)
                           || ${BUMP_FORGOTTEN},
                message_count = (select count(*) from messages m where m.conversation_id = c.id), updated_at = now()
           from unnest(?::uuid[], ?::timestamptz[]) as t(id, since)
          where c.id = t.id`,
        [
          uuidArray(touched.map((row) => row.conversation_id)),
          `{${touched.map((row) => `"${new Date(row.since).toISOString()}"`).join(',')}}`,
        ],
        'run',
      );
    }
    await tx.nativeDelete(Conversation, { user: userId, kind: 'dm' });
    // Their personas and where they wore them (the user row's cascade would take them too; said here so it is plain).
    await tx.nativeDelete(Persona, { user: userId });
    await tx.nativeDelete(User, { id: userId });
    return {
      messages,
      replies: replies.affectedRows,
      memories: memories.affectedRows,
      rewritten: quotes.rewritten,
      rememorize: quotes.rememorize,
      characterIds: characters.map((row) => row.id),
    };
  });
}

/**
 * What else holds a person once their messages go: the closing summary of a
 * scene they spoke in (deleted: it may retell them; running summaries covering
 * their messages go after the messages, in deleteUserData), and their
 * internal id in replies' and alternatives' metadata (who a reply answered and was
 * spent for, which of their memories went into it, who last edited a summary).
 */
async function forgetTracesOf(tx: EntityManager, userId: string): Promise<void> {
  await tx.execute(
    `update conversations c set settings = settings #- '{scene,summary}', updated_at = now()
      where c.settings->'scene'->>'summary' is not null
        and exists (select 1 from messages m where m.conversation_id = c.id and m.author_id = ?)`,
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
