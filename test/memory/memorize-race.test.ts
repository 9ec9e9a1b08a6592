import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { deleteUserMessage } from '../../src/chat/history.js';
import { deleteUserData } from '../../src/memory/delete-user-data.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Message, VectorMemory, type ICharacter, type IMessage } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { MEMORIZE_QUEUE, memorizeHandler } from '../../src/memory/memorize.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait-for.js';
import { heldEmbedder, jobContext } from '../support/job-context.js';

/**
 * A message deleted while memorize holds the rows of its exchange locked (issue 16, item 6): the deletion waits for
 * the memorize transaction, and then deletes the memory it stored, so no memory is left quoting a message that is gone.
 * That one takes real concurrent transactions, so only on a PostgreSQL server (the embedded database has one
 * connection). And a reply rewritten by delete-my-data while its memory is being made is memorized as it is now.
 */
const DIMENSION = 64;
const guild = { id: '934000000000000001', name: 'Harbour' };
const ione = { id: '124000000000000001', username: 'ione' };
let db: TestDatabase;
let actor: Actor;
let aria: ICharacter;
const embedder = new HashingEmbedder(DIMENSION);
const em = () => db.orm.em.fork();
const sql = <T>(query: string, params: unknown[] = []) => em().getConnection().execute<T[]>(query, params);
const memorize = (replyId: string, using: Pick<HashingEmbedder, 'id' | 'dimension' | 'embed'> = embedder) =>
  memorizeHandler({ orm: db.orm, embedder: using })({ replyId }, jobContext(MEMORIZE_QUEUE, 'race'));

/** The backend of this database waiting for a lock while running a statement that starts with `start`, and who blocks it. */
async function waitingOn(start: string): Promise<{ pid: number; blockers: number[] } | undefined> {
  const [row] = await sql<{ pid: number; blockers: number[] }>(
    `select pid, pg_blocking_pids(pid) as blockers from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and query like ?`,
    [`${start}%`],
  );
  return row;
}

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  actor = await resolveActor(em(), { user: ione, guild });
  aria = await createCharacter(em(), actor, { name: 'Aria', personalityPrompt: 'A bard.', visibility: 'guild' });
});
afterAll(() => db?.close());

describe.runIf(!inject('embedded'))('memorize and a deletion at the same time', () => {
  it('a message deleted while memorize holds its exchange locked leaves no memory quoting it', async () => {
    const work = em();
    const conversation = await bindCharacter(work, actor, { id: '924000000000000001', kind: 'channel' }, aria);
    const start = Date.parse('2026-11-01T10:00:00Z');
    const lines: [string, string][] = [
      ['Where is the harbour office?', 'By the lighthouse.'],
      ['The door code of the harbour office is 7731, remember it.', 'Your door code is safe with me.'],
    ];
    const messages = lines.flatMap(([said, answer], i) => [
      work.create(Message, {
        conversation,
        role: 'user',
        content: said,
        author: actor.user,
        authorName: 'ione',
        discordMessageId: String(944000000000000000n + BigInt(i)),
        createdAt: new Date(start + i * 60_000),
      }) as IMessage,
      work.create(Message, {
        conversation,
        role: 'assistant',
        content: answer,
        character: aria,
        createdAt: new Date(start + i * 60_000 + 1000),
      }) as IMessage,
    ]);
    await work.flush();
    const [earlier, earlierReply, said, reply] = messages as [IMessage, IMessage, IMessage, IMessage];
    expect(await memorize(reply.id)).toEqual({ memorized: true });
    // Its memory, passed off as an earlier exchange's saying the same: the next run merges it, and must delete it first.
    const [twin] = await sql<{ id: string }>(
      `update vector_memories set message_id = ?, metadata = jsonb_set(metadata, '{messageIds}', ?::jsonb) where message_id = ? returning id`,
      [earlierReply.id, JSON.stringify([earlier.id, earlierReply.id]), reply.id],
    );
    expect(twin).toBeDefined();

    // Another transaction holds the twin: memorize (run again: a swipe, a retry) locks the exchange and stops there.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const holder = em().transactional(async (tx) => {
      await tx.execute('select id from vector_memories where id = ? for update', [twin!.id]);
      locked();
      await released;
    });
    await holding;
    const memorizing = memorize(reply.id);
    const job = await waitFor(() => waitingOn('delete from vector_memories where id in'), 'memorize to hold the exchange and wait');
    // Ione deletes her Discord message meanwhile: the deletion waits for memorize's row locks on the messages.
    const deleting = deleteUserMessage(em(), said.discordMessageId!);
    const deletion = await waitFor(() => waitingOn('delete from "messages"'), 'the deletion to wait for memorize');
    expect(deletion.blockers).toEqual([job.pid]);

    release();
    await holder;
    expect(await memorizing).toEqual({ memorized: true });
    expect(await deleting).toBe(true);
    expect(await em().count(Message, { id: said.id })).toBe(0);
    const left = await em().find(VectorMemory, { conversation: conversation.id });
    expect(left.map((memory) => memory.content).join('\n')).not.toContain('7731');
    // No memory names a message that is gone.
    const ids = new Set((await em().find(Message, { conversation: conversation.id })).map((message) => message.id));
    for (const memory of left) {
      const quoted = (memory.metadata as { messageIds?: string[] }).messageIds ?? [];
      expect(quoted.filter((id) => !ids.has(id))).toEqual([]);
    }
  });
});

describe('memorize and delete-my-data at the same time', () => {
  it('a reply rewritten while its memory is being made is memorized as it is now', async () => {
    const marcus = await resolveActor(em(), { user: { id: '124000000000000002', username: 'marcus' }, guild });
    const work = em();
    const conversation = await bindCharacter(work, actor, { id: '924000000000000002', kind: 'channel' }, aria);
    const start = Date.parse('2026-11-02T10:00:00Z');
    const at = (minutes: number) => new Date(start + minutes * 60_000);
    work.create(Message, {
      conversation,
      role: 'user',
      content: 'The spare key is under the blue flowerpot by the door.',
      author: marcus.user,
      authorName: 'marcus',
      createdAt: at(0),
    });
    work.create(Message, { conversation, role: 'assistant', content: 'Noted.', character: aria, createdAt: at(1) });
    work.create(Message, {
      conversation,
      role: 'user',
      content: 'Where is the spare key?',
      author: actor.user,
      authorName: 'ione',
      createdAt: at(2),
    });
    const reply = work.create(Message, {
      conversation,
      role: 'assistant',
      content: 'Marcus said the spare key is under the blue flowerpot by the door.',
      character: aria,
      createdAt: at(3),
    });
    await work.flush();
    // The memory of the reply to Ione is being made (held in the embedder, its text read) while Marcus deletes his data.
    const { embedder: gated, entered: inEmbed, release } = heldEmbedder(embedder);
    const memorizing = memorize(reply.id, gated);
    await inEmbed;
    await deleteUserData(em(), marcus.user.id);
    expect((await em().findOneOrFail(Message, reply.id)).content).toBe('Marcus said [removed].');
    release();
    expect(await memorizing).toEqual({ memorized: true });
    const memory = await em().findOneOrFail(VectorMemory, { message: reply.id });
    expect(memory.content).toBe('ione: Where is the spare key?\nAria: Marcus said [removed].');
  });
});
