import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../discord-fake/index.js';
import { settledEndState } from './end-state.js';
import { bindAria, runServices, startFaultWorld, startGateway, type FaultWorld, type Gateway } from './world.js';

/**
 * The provider fails for a while (500s, then no answer past the provider's
 * timeout), then recovers: every reply asked for meanwhile shows a visible
 * error on Discord, later messages are answered normally, nothing is doubled.
 */
describe('the provider returning 500s and timeouts for a while', () => {
  let services: Awaited<ReturnType<typeof runServices>>;
  let world: FaultWorld;
  let gateway: Gateway;
  let mode: 'ok' | '500' | 'hang' = 'ok';

  beforeAll(async () => {
    services = await runServices();
    world = await startFaultWorld({ channels: 3 });
    gateway = await startGateway(world, world.env(services, services.env));
    await bindAria(gateway.deps, world);
    // The operator's provider, as seeded from the environment, with a short timeout and one retry to keep this quick.
    await gateway.deps.database.orm.em
      .fork()
      .getConnection()
      .execute(
        `update llm_provider_instances set config = config || '{"timeoutMs": 1500, "maxRetries": 1}'::jsonb, updated_at = now()
          where scope = 'system'`,
      );
    world.llm.replyWith(() =>
      mode === '500' ? { status: 500, message: 'upstream exploded' } : mode === 'hang' ? { hang: true } : undefined,
    );
    world.llm.reply('All good again.', { chunkDelayMs: 20 });
  });

  afterAll(async () => {
    await gateway?.close();
    await world?.close();
    await services?.close();
  });

  const errorAfter = (message: StoredMessage) =>
    world.discord.waitFor(
      () => world.discord.messages(message.channel_id).find((m) => BigInt(m.id) > BigInt(message.id) && m.content.includes('⚠️')),
      30_000,
      `an error after "${message.content}"`,
    );

  it('shows an error on each reply it could not write, then answers normally; nothing doubled', async () => {
    mode = '500';
    const failed500 = [world.say(0, 'Aria, sing?'), world.say(1, 'Aria, dance?')];
    const errors500 = await Promise.all(failed500.map(errorAfter));
    for (const error of errors500) expect(error.content).toMatch(/⚠️ .+/);

    mode = 'hang';
    const failedHang = [world.say(2, 'Aria, are you there?')];
    const [timeout] = await Promise.all(failedHang.map(errorAfter));
    expect(timeout!.content).toMatch(/⚠️ .*(time|answer)/i);

    mode = 'ok';
    const later = world.channels.map((_, i) => world.say(i, `Aria, better now? (${i})`));
    for (const message of later) {
      await world.discord.waitForMessage(
        message.channel_id,
        (m) => BigInt(m.id) > BigInt(message.id) && m.content === 'All good again.' && Boolean(m.components?.length),
        30_000,
      );
    }

    // One error per failed reply, one finished reply per later message: nothing doubled.
    for (const [index, channel] of world.channels.entries()) {
      const shown = world.discord.messages(channel.id).filter((m) => m.webhook_id);
      expect(
        shown.filter((m) => m.content.includes('⚠️')),
        `errors in room ${index}`,
      ).toHaveLength(1);
      expect(
        shown.filter((m) => m.content === 'All good again.'),
        `replies in room ${index}`,
      ).toHaveLength(1);
    }
    const state = await settledEndState(
      gateway.deps.database.orm,
      world.discord,
      world.channels.map((c) => c.id),
      world.sent,
    );
    expect(state.problems).toEqual([]);
    expect(state.orphans).toEqual([]);
    // The reply after an error answers the failed message too (it is in the history): all covered.
    expect(state).toMatchObject({ humans: 6, replies: 3, answeredByError: 0 });
  });
});
