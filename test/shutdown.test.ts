import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../src/characters/characters.js';
import { resolveActor, type Actor } from '../src/core/identity.js';
import { CharacterKnowledge, type ICharacter } from '../src/db/entities/index.js';
import { addKnowledge, INGEST_QUEUE, ingestJobId } from '../src/knowledge/knowledge.js';
import { createLogger } from '../src/logger.js';
import { BullmqJobQueue } from '../src/queue/bullmq-queue.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { PROCESS_START_MS, tsEntryArgs } from './support/process-start.js';

const databaseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
const TEXT = 'The lighthouse keeper counts ships every night and writes their names in a blue book. '.repeat(30);

/** A worker process (`npm run worker`), with its output kept. */
interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * `npm run worker` against the real PostgreSQL and Redis, killed with SIGTERM
 * while it learns a file whose download is slow: it finishes the job within
 * the grace period, or, past it, exits and leaves the job to another worker.
 * Needs real servers (a worker refuses to run without them); skipped otherwise.
 */
describe.runIf(databaseUrl && redisUrl)('graceful shutdown of npm run worker', () => {
  let db: TestDatabase;
  let files: Server;
  let filesUrl: string;
  /** Each download: half the file at once, the rest when `release` is called (or after `holdMs`). */
  const downloads: { release: () => void }[] = [];
  let holdMs = 0;
  let queue: BullmqJobQueue;
  const redisPrefix = `test-${randomBytes(4).toString('hex')}`;
  let actor: Actor;
  let character: ICharacter;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase({ embeddingDimension: 64 });
    files = createServer((request, response: ServerResponse) => {
      // Each file its own text: the same content twice for one character is refused.
      const body = Buffer.from(`${request.url}\n${TEXT}`);
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      response.write(body.subarray(0, body.length / 2));
      const release = () => response.end(body.subarray(body.length / 2));
      downloads.push({ release });
      if (holdMs) setTimeout(release, holdMs);
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    // Keys of its own (REDIS_PREFIX for the worker): other test files, and other runs, share the Redis server.
    queue = new BullmqJobQueue({ url: redisUrl!, logger: createLogger('silent'), prefix: redisPrefix });
    const em = db.orm.em.fork();
    actor = await resolveActor(em, {
      user: { id: '120000000000000088', username: 'keeper' },
      guild: { id: '930000000000000088', name: 'Coast' },
    });
    character = await createCharacter(em, actor, { name: 'Mara', personalityPrompt: 'A lighthouse keeper.', visibility: 'guild' });
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    for (const download of downloads) download.release();
    await queue?.close();
    if (redisUrl) {
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${redisPrefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
    files?.close();
    await db?.close();
  });

  async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
    const cwd = await mkdtemp(path.join(tmpdir(), 'dreamchat-worker-'));
    const child = spawn(process.execPath, tsEntryArgs('src/worker.ts'), {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl!,
        REDIS_PREFIX: redisPrefix,
        EMBEDDER: 'hashing',
        EMBEDDING_DIMENSION: '64',
        ALLOW_PRIVATE_ENDPOINTS: 'true',
        HEALTH_PORT: '0',
        // Only the background queues: no replies, so no Discord token needed.
        REPLIES_IN_QUEUE: 'false',
        LOG_LEVEL: 'info',
        // A job whose worker went away is taken over after two stalled-job checks this far apart (30 s by default).
        JOB_LOCK_MS: '5000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const worker = { child, output: () => output, exited };
    workers.push(worker);
    await expect.poll(() => output, { timeout: PROCESS_START_MS, interval: 100 }).toContain('worker started');
    return worker;
  }

  async function learn(name: string) {
    const item = await addKnowledge(db.orm.em.fork(), queue, actor, character, {
      url: `${filesUrl}/${name}.txt`,
      name,
      sourceName: `${name}.txt`,
      sourceType: 'url',
    });
    return item.id;
  }

  const statusOf = async (id: string) => (await db.orm.em.fork().findOneOrFail(CharacterKnowledge, id)).status;

  it(
    'finishes the running job, then exits 0',
    async () => {
      holdMs = 1500;
      const worker = await startWorker({ SHUTDOWN_GRACE_MS: '20000' });
      const started = downloads.length;
      const id = await learn('night-log');
      await expect.poll(() => downloads.length, { timeout: 10_000 }).toBe(started + 1);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.output()).toContain('shutting down');
      expect(worker.output()).toContain('shut down cleanly');
      expect(await statusOf(id)).toBe('completed');
      expect((await queue.getJob(INGEST_QUEUE, ingestJobId(id)))?.status).toBe('completed');
    },
    PROCESS_START_MS + 60_000,
  );

  it(
    'past the grace period exits 1 and another worker runs the job again',
    async () => {
      holdMs = 0;
      const first = await startWorker({ SHUTDOWN_GRACE_MS: '500' });
      const started = downloads.length;
      const id = await learn('storm-log');
      await expect.poll(() => downloads.length, { timeout: 10_000 }).toBe(started + 1);
      const signalled = Date.now();
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(1);
      // It does not wait for the job (which holds on for good): well under the time the job would take.
      expect(Date.now() - signalled).toBeLessThan(60_000);
      expect(first.output()).toContain('grace period over');
      expect((await queue.getJob(INGEST_QUEUE, ingestJobId(id)))?.status).toBe('active');
      expect(await statusOf(id)).toBe('processing');

      // The job's lock lapses (JOB_LOCK_MS, 5 s) and the next worker's stalled-job checks put it back and run it: BullMQ
      // needs two checks 5 s apart (the first marks the job, the second moves it back). The wait ends when it is done.
      holdMs = 1;
      const second = await startWorker({});
      await expect.poll(() => statusOf(id), { timeout: 180_000, interval: 500 }).toBe('completed');
      expect((await queue.getJob(INGEST_QUEUE, ingestJobId(id)))?.status).toBe('completed');
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    },
    2 * PROCESS_START_MS + 120_000,
  );
});
