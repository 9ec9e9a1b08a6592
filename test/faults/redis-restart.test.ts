import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { settledEndState } from './end-state.js';
import { EntryProcess, hasRedisServer, LogLines, RedisServer, sleep } from './services.js';
import { bindAria, startFaultWorld, startGateway, type FaultWorld, type Gateway } from './world.js';

/**
 * Redis killed (SIGKILL) and restarted with its append-only file while
 * replies are being written by the gateway and a `npm run worker` process:
 * both reconnect by themselves, queued jobs survive, every message is
 * answered once, including one sent while Redis was down.
 */
describe.runIf(process.env.DATABASE_URL && hasRedisServer)('Redis restarted mid-load', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let world: FaultWorld;
  let gateway: Gateway;
  let worker: EntryProcess;
  const logs = new LogLines();

  beforeAll(async () => {
    db = await createTestDatabase({ embeddingDimension: 64 });
    await db.orm.close();
    redis = await RedisServer.start();
    world = await startFaultWorld({ channels: 4 });
    world.llm.reply('A song for you, friend, from the tavern.', { chunkDelayMs: 60 });
    const env = world.env({ databaseUrl: db.url, redisUrl: redis.url });
    gateway = await startGateway(world, env, logs);
    await bindAria(gateway.deps, world);
    worker = await EntryProcess.start('src/worker.ts', { ...env, LOG_LEVEL: 'info' }, 'worker started');
  });

  afterAll(async () => {
    await worker?.kill();
    await gateway?.close();
    await world?.close();
    await redis?.stop();
    await db?.close();
  });

  it('recovers by itself: replies keep coming after the restart, none lost or doubled', async () => {
    const rooms = world.channels.length;
    for (let i = 0; i < rooms; i += 1) world.say(i, `Aria, first round ${i}`);
    // Mid-load: the first replies are being written when Redis dies.
    await world.discord.waitFor(() => world.discord.requestsTo({ method: 'POST', route: '/webhooks/:webhookId/:token' }).length >= 1);
    for (let i = 0; i < rooms; i += 1) world.say(i, `Aria, second round ${i}`);
    await redis.crash();
    // A message that arrives while Redis is down.
    world.say(0, 'Aria, are you still with us?');
    await sleep(1_500);
    await redis.restart();
    for (let i = 1; i < rooms; i += 1) world.say(i, `Aria, after the restart ${i}`);

    const state = await settledEndState(
      gateway.deps.database.orm,
      world.discord,
      world.channels.map((c) => c.id),
      world.sent,
      60_000,
    );
    if (state.problems.length)
      console.log(
        logs.entries().filter((e) => e.level >= 40),
        worker.lines.filter((l) => !l.includes('"level":30')),
      );
    expect(state.problems).toEqual([]);
    expect(state.orphans).toEqual([]);
    expect(state.humans).toBe(world.sent.length);
    expect(state.answeredByError).toBe(0);
    expect(worker.alive).toBe(true);
    expect(worker.messages()).toContain('Redis connection lost; reconnecting');
  }, 90_000);
});
