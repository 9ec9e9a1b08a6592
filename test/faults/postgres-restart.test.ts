import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settledEndState } from './end-state.js';
import { hasPostgresServer, hasRedisServer, LogLines, PostgresCluster, RedisServer, sleep } from './services.js';
import { bindAria, startFaultWorld, startGateway, type FaultWorld, type Gateway } from './world.js';

/**
 * A private PostgreSQL (with pgvector) restarted with `pg_ctl restart -m fast`
 * while replies are being written: the pool reconnects by itself, replies in
 * flight are finished or retried, and later messages are answered.
 */
describe.runIf(process.env.DATABASE_URL && hasPostgresServer && hasRedisServer)('PostgreSQL restarted mid-load', () => {
  let pg: PostgresCluster;
  let redis: RedisServer;
  let world: FaultWorld;
  let gateway: Gateway;
  const logs = new LogLines();

  beforeAll(async () => {
    [pg, redis] = await Promise.all([PostgresCluster.start(), RedisServer.start()]);
    world = await startFaultWorld({ channels: 4 });
    world.llm.reply('Glad you asked: the road north is long.', { chunkDelayMs: 60 });
    gateway = await startGateway(world, world.env({ databaseUrl: pg.url, redisUrl: redis.url }), logs);
    await bindAria(gateway.deps, world);
  });

  afterAll(async () => {
    await gateway?.close();
    await world?.close();
    await redis?.stop();
    await pg?.destroy();
  });

  it('recovers by itself: replies in flight are finished or retried, later messages answered', async () => {
    const rooms = world.channels.length;
    for (let i = 0; i < rooms; i += 1) world.say(i, `Aria, which way? ${i}`);
    await world.discord.waitFor(() => world.discord.requestsTo({ method: 'POST', route: '/webhooks/:webhookId/:token' }).length >= 1);
    for (let i = 0; i < rooms; i += 1) world.say(i, `Aria, and then? ${i}`);
    await sleep(300);
    await pg.stopServer('fast');
    await sleep(1_000);
    await pg.startServer();
    for (let i = 0; i < rooms; i += 1) world.say(i, `Aria, after the storm ${i}`);

    const state = await settledEndState(
      gateway.deps.database.orm,
      world.discord,
      world.channels.map((c) => c.id),
      world.sent,
      60_000,
    );
    if (state.problems.length)
      console.log(
        logs
          .entries()
          .filter((e) => e.level >= 40)
          .map((e) => `${e.msg}: ${JSON.stringify(e.err ?? '').slice(0, 300)}`),
      );
    expect(state.problems).toEqual([]);
    expect(state.orphans).toEqual([]);
    expect(state.humans).toBe(world.sent.length);
    const interrupted = world.channels.flatMap((c) => world.discord.messages(c.id)).filter((m) => m.content.includes('Interrupted'));
    const retried = logs.messages().filter((m) => m === 'job failed; it will be retried').length;
    console.info(
      `PostgreSQL restart: ${state.replies} replies for ${state.humans} messages, ${retried} reply jobs retried, ${interrupted.length} half-written replies marked`,
    );
  }, 90_000);

  it('a message that arrives while the database is down', async () => {
    await pg.stopServer('fast');
    const during = world.say(0, 'Aria, can you hear me while the lights are out?');
    await sleep(2_000);
    await pg.startServer();
    const state = await settledEndState(gateway.deps.database.orm, world.discord, [world.channels[0]!.id], [during], 30_000);
    if (state.problems.length)
      console.log(
        logs
          .entries()
          .filter((e) => e.level >= 40)
          .map((e) => `${e.msg}: ${JSON.stringify(e.err ?? '').slice(0, 300)}`),
      );
    expect(state.problems).toEqual([]);
  }, 60_000);
});
