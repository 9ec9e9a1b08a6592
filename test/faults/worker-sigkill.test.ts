import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { loadConfig } from '../../src/config.js';
import { createDeps, type OwnedDeps } from '../../src/deps.js';
import { createLogger } from '../../src/logger.js';
import { settledEndState } from './end-state.js';
import { EntryProcess, hasRedisServer, RedisServer, until } from './services.js';
import { bindAria, startFaultWorld, type FaultWorld } from './world.js';
import { PROCESS_START_MS } from '../support/process-start.js';

/**
 * Two `npm run worker` processes write replies from a slowly streaming
 * provider; the one holding replies is killed with SIGKILL. Its jobs are run
 * again by the other once their BullMQ lock and the conversation lock run out
 * (JOB_LOCK_MS, 5 s here instead of 30), and every message
 * ends with exactly one finished reply. The dead worker's half-written
 * messages are taken over: the retried reply is written into them.
 */
describe.runIf(process.env.DATABASE_URL && hasRedisServer)('a worker killed with SIGKILL mid-reply', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let world: FaultWorld;
  let gatewayDeps: OwnedDeps;
  const workers: EntryProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase({ embeddingDimension: 64 });
    await db.orm.close();
    redis = await RedisServer.start();
    world = await startFaultWorld({ channels: 4 });
    const words = 'Once upon a time in a tavern by the sea a bard sang of storms and ships and gold'.split(' ');
    world.llm.reply(words.join(' '), { chunks: words.map((w) => `${w} `), chunkDelayMs: 250 });
    const env = world.env({ databaseUrl: db.url, redisUrl: redis.url });
    // The receiving side only: stores each message and queues its reply job (no gateway, so it writes none itself).
    gatewayDeps = await createDeps(loadConfig({ ...env, REPLIES_IN_QUEUE: 'true' }), createLogger('silent'));
    await bindAria(gatewayDeps, world);
    workers.push(
      ...(await Promise.all(
        [0, 1].map(() => EntryProcess.start('src/worker.ts', { ...env, LOG_LEVEL: 'info', JOB_LOCK_MS: '5000' }, 'worker started')),
      )),
    );
  }, PROCESS_START_MS + 60_000);

  afterAll(async () => {
    for (const worker of workers) await worker.kill();
    await gatewayDeps?.close();
    await world?.close();
    await redis?.stop();
    await db?.close();
  });

  /** Alice writes in room `index`, and the receiving side queues the reply, as the gateway does. */
  const say = async (index: number, content: string) => {
    const message = world.say(index, content);
    const outcome = await gatewayDeps.responder.onMessage(
      {
        channelId: message.channel_id,
        discordMessageId: message.id,
        author: { id: world.alice, username: 'alice' },
        guild: { id: world.guildId },
        content,
        addressed: true,
      },
      () => {
        throw new Error('the receiving side wrote a reply');
      },
    );
    expect(outcome).toBe('queued');
  };

  it('retries the dead worker’s replies on the other worker; one finished reply per message', async () => {
    for (let i = 0; i < world.channels.length; i += 1) await say(i, `Aria, a story please (${i}) ${randomBytes(2).toString('hex')}`);
    // Every reply is streaming and at least one is on Discord, half written.
    await until(() => world.llm.requests.filter((r) => r.path.endsWith('/chat/completions')).length >= world.channels.length);
    await world.discord.waitFor(
      () => world.discord.requestsTo({ method: 'PATCH', route: '/webhooks/:webhookId/:token/messages/:messageId' }).length >= 1,
    );
    // The worker streaming from the provider right now holds replies: kill it.
    const victim = workers.find((worker) => streamingFrom(worker.pid, world.llm.url)) ?? workers[0]!;
    const survivor = workers.find((worker) => worker !== victim)!;
    await victim.kill('SIGKILL');
    const cursor = (m: { content: string }) => m.content.endsWith('▌');
    const halfWritten = world.channels.flatMap((c) => world.discord.messages(c.id)).filter((m) => m.webhook_id && cursor(m));

    const state = await settledEndState(
      gatewayDeps.database.orm,
      world.discord,
      world.channels.map((c) => c.id),
      world.sent,
      100_000,
    );
    expect(state.problems).toEqual([]);
    expect(state.humans).toBe(world.channels.length);
    expect(state.replies).toBe(world.channels.length);
    expect(survivor.alive).toBe(true);
    // What the dead worker left half-written was taken over: the same Discord messages now show finished replies.
    expect(state.orphans).toEqual([]);
    const takenOver = halfWritten.map((m) => world.discord.message(m.id)).filter((m) => m && !m.fake.deleted);
    expect(takenOver.length).toBeGreaterThan(0);
    for (const message of takenOver) {
      expect(cursor(message!)).toBe(false);
      expect(message!.components?.length ?? 0).toBeGreaterThan(0);
    }
  }, 150_000);
});

/** Whether process `pid` has a connection open to the fake provider. */
function streamingFrom(pid: number, url: string): boolean {
  const port = new URL(url).port;
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`]).toString();
  return out.includes(`pid=${pid},`);
}
