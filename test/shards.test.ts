import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord } from './discord-fake/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { tsEntryArgs } from './support/process-start.js';

const redisUrl = process.env.REDIS_URL;

/** Real servers only: shards are processes of their own, sharing the database and Redis. */
describe.runIf(process.env.DATABASE_URL && redisUrl)('npm run start:shards', () => {
  let db: TestDatabase;
  let discord: FakeDiscord;

  beforeAll(async () => {
    db = await createTestDatabase({ embeddingDimension: 64, migrate: false });
    await db.orm.close();
    discord = await startFakeDiscord({ botUser: { username: 'DreamChat' }, rateLimits: 'relaxed' });
  });
  afterAll(async () => {
    await discord?.close();
    await db?.close();
  });

  it('applies the migrations once, starts a gateway process per shard, and stops them all on SIGTERM', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'dreamchat-shards-'));
    const child = spawn(process.execPath, tsEntryArgs('src/shards.ts'), {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        DISCORD_TOKEN: discord.token,
        DISCORD_API_URL: discord.restUrl,
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        // Keys of its own: other test files (and other runs) share the Redis server.
        REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
        SHARD_COUNT: '1',
        EMBEDDER: 'hashing',
        EMBEDDING_DIMENSION: '64',
        LOG_LEVEL: 'info',
        SECRET_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await discord.waitForIdentify(60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}\n--- output ---\n${output}`);
      });
      expect(output).toContain('"shard":0');
      expect(output).toContain('shard started');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);
});
