import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { dispatchReplies, REPLY_QUEUE, replyJobHandler } from '../../src/chat/reply-jobs.js';
import { Responder } from '../../src/chat/responder.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor } from '../../src/core/identity.js';
import { Message, type IConversation } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { ProviderRegistry, seedSystemInstances } from '../../src/llm/registry.js';
import { createLogger } from '../../src/logger.js';
import { createJobQueue } from '../../src/queue/create-job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { createReplyDrafts, type ReplyDrafts } from '../../src/queue/drafts.js';
import { createLocks, type Locks } from '../../src/queue/lock.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait-for.js';
import { recordingSinks } from '../support/recording-sink.js';

const DIMENSION = 32;
const redisUrl = process.env.REDIS_URL;
const logger = createLogger('silent');
const guild = { id: '933000000000000001', name: 'Harbour' };
const ione = { id: '123000000000000001', username: 'ione' };
let db: TestDatabase;
let fake: FakeServer;
/** The gateway's side: stores messages and queues reply jobs. */
let gateway: Responder;
/** Two consumers of the reply queue: two worker processes with Redis, two in-process consumers' worth of concurrency without. */
const workers: { queue: JobQueue; locks: Locks; drafts: ReplyDrafts }[] = [];
/** What the test reads and plants: the drafts every worker shares (through Redis; the one worker's own without). */
let drafts: ReplyDrafts;
let enqueue: JobQueue;
const sinks = recordingSinks();
const em = () => db.orm.em.fork();
let discordIds = 0n;

async function channel(name: string): Promise<{ id: string; conversation: IConversation }> {
  const actor = await resolveActor(em(), { user: ione, guild });
  const work = em();
  const character = await createCharacter(work, actor, { name, personalityPrompt: 'Patient.', visibility: 'guild' });
  const id = String(923000000000000000n + discordIds++);
  return { id, conversation: await bindCharacter(work, actor, { id, kind: 'thread' }, character) };
}

const say = (channelId: string, content: string) =>
  gateway.onMessage(
    { channelId, discordMessageId: String(943000000000000000n + discordIds++), author: ione, guild, content, addressed: true },
    // The gateway writes no reply itself: it must never use these.
    () => {
      throw new Error('the gateway wrote a reply');
    },
  );

const replies = (conversation: IConversation) =>
  em().find(Message, { conversation: conversation.id, role: 'assistant' }, { orderBy: { createdAt: 'asc' } });

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  fake = await startFakeOpenAI();
  const config = loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'fake-model' });
  await seedSystemInstances(em(), config);
  const providers = new ProviderRegistry({ config });
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  const base = {
    orm: db.orm,
    embedder: new HashingEmbedder(DIMENSION),
    resolveModel: (r: Parameters<ProviderRegistry['resolve']>[1]) => providers.resolve(em(), r),
    logger,
  };
  enqueue = createJobQueue({ redisUrl, logger, prefix });
  gateway = new Responder({ ...base, dispatch: dispatchReplies(enqueue) });
  drafts = createReplyDrafts({ redisUrl, prefix });
  for (let i = 0; i < (redisUrl ? 2 : 1); i++) {
    const queue = redisUrl ? createJobQueue({ redisUrl, logger, prefix }) : enqueue;
    const locks = createLocks({ redisUrl, prefix });
    const own = redisUrl ? createReplyDrafts({ redisUrl, prefix }) : drafts;
    const responder = new Responder({ ...base, queue });
    queue.process(
      REPLY_QUEUE,
      replyJobHandler({ orm: db.orm, responder, locks, drafts: own, queue, sinksFor: async () => sinks, logger }),
      { concurrency: 4 },
    );
    workers.push({ queue, locks, drafts: own });
  }
});

afterAll(async () => {
  for (const worker of workers) {
    await worker.queue.close();
    await worker.locks.close();
    await worker.drafts.close();
  }
  await drafts?.close();
  await enqueue?.close();
  await fake?.close();
  await db?.close();
});

describe('replies through the reply queue', () => {
  it('are written by a queue consumer, not by the process that received the message', async () => {
    const { id, conversation } = await channel('Aria');
    fake.next({ text: 'Written by a worker.' });
    expect(await say(id, 'Hello?')).toBe('queued');
    const [reply] = await waitFor(async () => {
      const rows = await replies(conversation);
      return rows.length ? rows : undefined;
    }, 'the reply');
    expect(reply!.content).toBe('Written by a worker.');
    // The reply is stored before its sink hears it is finished: wait for that too rather than read it at once.
    await waitFor(async () => sinks.sinks.some((sink) => sink.finished?.text === 'Written by a worker.'), 'the finished reply on its sink');
  });

  it('keep one reply at a time per conversation, in order, and answer every message exactly once', async () => {
    const { id, conversation } = await channel('Borin');
    // Slow replies, so that messages arrive while one is being written.
    fake.replyWith(() => ({ chunks: ['Slow ', 'and ', 'steady.'], chunkDelayMs: 150 }));
    const asked: Date[] = [];
    for (let i = 0; i < 6; i++) {
      expect(await say(id, `Question number ${i}?`)).toBe('queued');
      const stored = await em().findOneOrFail(Message, { conversation: conversation.id, content: `Question number ${i}?` });
      asked.push(stored.createdAt);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    const last = asked.at(-1)!.getTime();
    const done = await waitFor(async () => {
      const rows = await replies(conversation);
      const covered = rows.some((row) => new Date((row.metadata as { answeredUpTo: string }).answeredUpTo).getTime() >= last);
      return covered ? rows : undefined;
    }, 'a reply that saw the last question');
    // Let any job still queued for this conversation finish; none may write another reply.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const all = await replies(conversation);
    expect(all.length).toBe(done.length);
    // Every question is answered by some reply that saw it, and no two replies saw the same last message.
    const seen = all.map((row) => new Date((row.metadata as { answeredUpTo: string }).answeredUpTo).getTime());
    for (const at of asked) expect(seen.some((upTo) => upTo >= at.getTime())).toBe(true);
    expect(new Set(seen).size).toBe(seen.length);
    expect(all.length).toBeLessThan(asked.length);
    // One at a time: each provider request for this conversation started after the previous reply was stored.
    const requests = fake.requests.filter((request) => JSON.stringify(request.body.messages).includes('Question number'));
    expect(requests).toHaveLength(all.length);
    for (let i = 1; i < all.length; i++) expect(requests[i]!.at).toBeGreaterThanOrEqual(all[i - 1]!.createdAt.getTime());
    fake.reset();
  });

  it('let different conversations reply at the same time', async () => {
    const a = await channel('Cass');
    const b = await channel('Dorian');
    fake.replyWith(() => ({ chunks: ['Taking ', 'my ', 'time.'], chunkDelayMs: 500 }));
    const started = Date.now();
    await say(a.id, 'First conversation.');
    await say(b.id, 'Second conversation.');
    await waitFor(async () => (await replies(a.conversation)).length && (await replies(b.conversation)).length, 'both replies');
    const requests = fake.requests.filter((request) => request.at >= started);
    expect(requests).toHaveLength(2);
    // Each request started before the other conversation's reply was stored: they overlapped.
    const [first] = await replies(a.conversation);
    const [second] = await replies(b.conversation);
    const requestFor = (text: string) => requests.find((request) => JSON.stringify(request.body.messages).includes(text))!;
    expect(requestFor('Second conversation.').at).toBeLessThan(first!.createdAt.getTime());
    expect(requestFor('First conversation.').at).toBeLessThan(second!.createdAt.getTime());
    fake.reset();
  });

  it('note the messages of a reply while it is written, and forget them once it is finished', async () => {
    const { id, conversation } = await channel('Edda');
    fake.replyWith(() => ({ chunks: ['Word ', 'by ', 'word.'], chunkDelayMs: 300 }));
    await say(id, 'Take your time.');
    const draft = await waitFor(() => drafts.get(conversation.id), 'the draft of the reply being written');
    expect(draft).toEqual({
      speaker: expect.objectContaining({ name: 'Edda' }),
      messageIds: [`posted-${conversation.character!.id.slice(0, 8)}`],
    });
    await waitFor(async () => (await replies(conversation)).length, 'the reply');
    await waitFor(async () => (await drafts.get(conversation.id)) === undefined || undefined, 'the draft to be forgotten');
    fake.reset();
  });

  it('take over the half-written messages a dead worker left: the next reply is written into them', async () => {
    const { id, conversation } = await channel('Fenn');
    const character = conversation.character!;
    await drafts.save(conversation.id, { speaker: { characterId: character.id, name: 'Fenn' }, messageIds: ['771', '772'] });
    fake.next({ text: 'Where was I? Ah, yes.' });
    await say(id, 'Are you still there?');
    const [reply] = await waitFor(async () => {
      const rows = await replies(conversation);
      return rows.length ? rows : undefined;
    }, 'the reply');
    const sink = await waitFor(async () => sinks.sinks.find((s) => s.finished?.info.messageId === reply!.id), 'the reply shown');
    expect(sink.messageIds).toEqual(['771', '772']);
    expect(sink.finished!.text).toBe('Where was I? Ah, yes.');
    expect(await drafts.get(conversation.id)).toBeUndefined();
  });

  it('mark a left draft no reply takes over (another character speaks now) as interrupted', async () => {
    const { id, conversation } = await channel('Gale');
    await drafts.save(conversation.id, {
      speaker: { characterId: '00000000-0000-4000-8000-000000000001', name: 'Old' },
      messageIds: ['881'],
    });
    fake.next({ text: 'A fresh reply.' });
    await say(id, 'Hello, Gale.');
    // Settled once the new reply is written, and then forgotten.
    const left = await waitFor(async () => sinks.sinks.find((s) => s.messageIds.includes('881') && s.failed), 'the left draft marked');
    await waitFor(async () => (await drafts.get(conversation.id)) === undefined || undefined, 'the draft to be forgotten');
    expect(left.speaker.name).toBe('Old');
    expect(left.failed).toBe('This reply was interrupted.');
    const fresh = await waitFor(async () => sinks.sinks.find((s) => s.finished?.text === 'A fresh reply.'), 'the fresh reply finished');
    expect(fresh.messageIds).toEqual([]);
  });
});
