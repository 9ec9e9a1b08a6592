import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createCharacter } from '../src/characters/characters.js';
import { bindCharacter } from '../src/chat/conversations.js';
import { loadConfig } from '../src/config.js';
import { resolveActor, type Actor } from '../src/core/identity.js';
import { CharacterKnowledge, type ICharacter } from '../src/db/entities/index.js';
import { createDeps, type OwnedDeps } from '../src/deps.js';
import { dependencyChecks, startHealthServer } from '../src/health.js';
import { createLoreItems, INGEST_QUEUE } from '../src/knowledge/knowledge.js';
import { createLogger } from '../src/logger.js';
import { MEMORIZE_QUEUE } from '../src/memory/memorize.js';
import { Metrics } from '../src/metrics/metrics.js';
import { BullmqJobQueue } from '../src/queue/bullmq-queue.js';
import type { JobQueue } from '../src/queue/job-queue.js';
import { MemoryJobQueue } from '../src/queue/memory-queue.js';
import { startWorkers } from '../src/workers.js';
import type { FakeServer } from './fakes-llm/fake-server.js';
import { startFakeOpenAI } from './fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { recordingSinks } from './support/recording-sink.js';
import { fakeProviderEnv } from './support/fake-env.js';

const logger = createLogger('silent');

/** The value of one sample of a Prometheus text exposition, by name and (a subset of) its labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('GET /metrics of a running bot', () => {
  let db: TestDatabase;
  let fake: FakeServer;
  let deps: OwnedDeps;
  let server: Server;
  let url: string;
  let actor: Actor;
  let character: ICharacter;
  const channelId = '920000000000000077';
  const guild = { id: '930000000000000077', name: 'Inn' };
  const ione = { id: '120000000000000077', username: 'Ione' };
  let nextId = 1n;
  const say = (content: string) =>
    deps.responder.onMessage(
      { channelId, discordMessageId: String(940000000000000000n + nextId++), author: ione, guild, content, addressed: true },
      recordingSinks(),
    );
  const scrape = async () => (await fetch(`${url}/metrics`)).text();

  beforeAll(async () => {
    db = await createTestDatabase({ embeddingDimension: 64 });
    // The bot opens its own pool; the embedded server has one session, so the test's pool steps aside.
    await db.orm.close();
    fake = await startFakeOpenAI();
    const config = loadConfig({
      DATABASE_URL: db.url,
      ...(inject('embedded') ? { DATABASE_POOL_SIZE: '1' } : {}),
      ...fakeProviderEnv(fake),
    });
    deps = await createDeps(config, logger);
    await startWorkers(deps);
    server = await startHealthServer({ port: 0, host: '127.0.0.1', logger, checks: dependencyChecks(deps), metrics: deps.metrics });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const em = deps.database.orm.em.fork();
    actor = await resolveActor(em, { user: ione, guild });
    character = await createCharacter(em, actor, { name: 'Aria', personalityPrompt: 'A cheerful bard.', visibility: 'guild' });
    await bindCharacter(em, actor, { id: channelId, kind: 'channel' }, character);
  });
  afterAll(async () => {
    server?.close();
    await deps?.close();
    await fake?.close();
    await db?.close();
  });

  it('counts messages, replies by outcome, latency, provider errors and tokens by model', async () => {
    fake.next({ chunks: ['Well ', 'met!'], usage: { input: 120, output: 3 } }, { status: 401, message: 'Incorrect API key provided' });
    expect(await say('Hello Aria!')).toBe('replied');
    expect(await say('Aria, again?')).toBe('replied');

    const text = await scrape();
    expect(sample(text, 'dreamchat_messages_received_total', { kind: 'channel' })).toBe(2);
    expect(sample(text, 'dreamchat_replies_total', { outcome: 'ok' })).toBe(1);
    expect(sample(text, 'dreamchat_replies_total', { outcome: 'auth' })).toBe(1);
    expect(sample(text, 'dreamchat_provider_errors_total', { kind: 'auth' })).toBe(1);
    expect(sample(text, 'dreamchat_reply_duration_seconds_count', { result: 'ok' })).toBe(1);
    expect(sample(text, 'dreamchat_reply_duration_seconds_count', { result: 'failed' })).toBe(1);
    expect(sample(text, 'dreamchat_reply_duration_seconds_sum', { result: 'ok' })).toBeGreaterThan(0);
    expect(sample(text, 'dreamchat_tokens_total', { model: 'fake-model', direction: 'input' })).toBe(120);
    expect(sample(text, 'dreamchat_tokens_total', { model: 'fake-model', direction: 'output' })).toBe(3);
    // The default process metrics are there too.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    // The finished reply was memorized by the memorize job.
    await expect.poll(async () => sample(await scrape(), 'dreamchat_jobs_total', { queue: MEMORIZE_QUEUE, outcome: 'completed' })).toBe(1);
  });

  it('counts ingestion: items by outcome, passages and bytes embedded, ingest job runs', async () => {
    const content = 'The dragon Smaug sleeps under the Lonely Mountain on a bed of gold. '.repeat(40);
    const [item] = await createLoreItems(deps.database.orm.em.fork(), deps.queue, actor, character, [{ keys: ['dragon'], content }]);
    await expect
      .poll(async () => (await deps.database.orm.em.fork().findOneOrFail(CharacterKnowledge, item!.id)).status, { timeout: 10_000 })
      .toBe('completed');
    const text = await scrape();
    expect(sample(text, 'dreamchat_ingest_items_total', { outcome: 'completed' })).toBe(1);
    const chunks = sample(text, 'dreamchat_ingest_chunks_embedded_total')!;
    expect(chunks).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'dreamchat_ingest_bytes_embedded_total')).toBeGreaterThanOrEqual(Buffer.byteLength(content));
    expect(sample(text, 'dreamchat_jobs_total', { queue: INGEST_QUEUE, outcome: 'completed' })).toBe(1);
    expect(sample(text, 'dreamchat_job_duration_seconds_count', { queue: INGEST_QUEUE })).toBe(1);
    expect(sample(text, 'dreamchat_queue_jobs', { queue: INGEST_QUEUE, state: 'completed' })).toBe(1);
    expect(sample(text, 'dreamchat_queue_up')).toBe(1);
  });

  it('answers /livez, and /readyz like /healthz', async () => {
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true, checks: { database: 'ok' } });
  });
});

/** Queue depth is read from the backend at every scrape. */
async function expectDepth(queue: JobQueue): Promise<void> {
  const metrics = new Metrics({ defaultMetrics: false });
  metrics.watchQueues(queue, ['depth']);
  for (let i = 0; i < 3; i++) await queue.add('depth', { i });
  await queue.add('depth', { later: true }, { delayMs: 60_000 });
  const text = (await metrics.expose()).body;
  expect(sample(text, 'dreamchat_queue_jobs', { queue: 'depth', state: 'waiting' })).toBe(3);
  expect(sample(text, 'dreamchat_queue_jobs', { queue: 'depth', state: 'delayed' })).toBe(1);
  expect(sample(text, 'dreamchat_queue_jobs', { queue: 'depth', state: 'active' })).toBe(0);
  expect(sample(text, 'dreamchat_queue_up')).toBe(1);
}

describe('queue depth', () => {
  it('reflects queued jobs on the in-process queue', async () => {
    const queue = new MemoryJobQueue({ logger });
    await expectDepth(queue);
    await queue.close();
  });

  it.runIf(process.env.REDIS_URL)('reflects queued jobs on Redis', async () => {
    const prefix = `dreamchat-test-${randomBytes(4).toString('hex')}`;
    const queue = new BullmqJobQueue({ url: process.env.REDIS_URL!, logger, prefix });
    try {
      await expectDepth(queue);
    } finally {
      await queue.close();
      const redis = new Redis(process.env.REDIS_URL!);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });

  it('reports the backend as down, without depths, when it does not answer', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const queue = new MemoryJobQueue({ logger });
    queue.counts = () => Promise.reject(new Error('connection refused'));
    metrics.watchQueues(queue, ['depth']);
    const text = (await metrics.expose()).body;
    expect(sample(text, 'dreamchat_queue_up')).toBe(0);
    expect(sample(text, 'dreamchat_queue_jobs')).toBeUndefined();
  });
});
