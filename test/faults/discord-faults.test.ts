import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Responder } from '../../src/chat/responder.js';
import type { StoredMessage } from '../discord-fake/index.js';
import { checkEndState, settledEndState } from './end-state.js';
import { LogLines } from './services.js';
import { bindAria, runServices, startFaultWorld, startGateway, type FaultWorld, type Gateway } from './world.js';

const POST = { method: 'POST', route: '/webhooks/:webhookId/:token' };
const PATCH = { method: 'PATCH', route: '/webhooks/:webhookId/:token/messages/:messageId' };

/**
 * Discord's REST answering 429 (with retry_after) and 5xx on the webhook
 * posts and edits of replies: @discordjs/rest waits out the 429s and retries
 * 5xx (3 times), so replies still arrive whole and once; nothing is retried
 * in a loop. A post Discord keeps refusing is logged, and the next reply works.
 */
describe('Discord REST returning 429 and 5xx', () => {
  let services: Awaited<ReturnType<typeof runServices>>;
  let world: FaultWorld;
  let gateway: Gateway;
  const logs = new LogLines();

  beforeAll(async () => {
    services = await runServices();
    world = await startFaultWorld({ channels: 1 });
    gateway = await startGateway(world, world.env(services, services.env), logs);
    await bindAria(gateway.deps, world);
  });

  afterAll(async () => {
    await gateway?.close();
    await world?.close();
    await services?.close();
  });

  const mark = () => world.discord.requests.at(-1)?.seq ?? 0;
  const finishedAfter = (message: StoredMessage, text: string) =>
    world.discord.waitForMessage(
      message.channel_id,
      (m) => BigInt(m.id) > BigInt(message.id) && m.content === text && Boolean(m.components?.length),
      30_000,
    );

  it('waits out 429s on the post and an edit: the reply arrives once, each refused call tried again once', async () => {
    // Several chunks a while apart: the reply is posted, edited while streaming, then finished.
    world.llm.next({ chunks: ['Patience ', 'is ', 'a ', 'virtue.'], chunkDelayMs: 400 });
    world.discord.failNext({ ...POST, status: 429, retryAfter: 1 });
    world.discord.failNext({ ...PATCH, status: 429, retryAfter: 1 });
    const since = mark();
    const asked = world.say(0, 'Aria, a proverb?');
    await finishedAfter(asked, 'Patience is a virtue.');
    const posts = world.discord.requestsTo({ ...POST, since });
    expect(posts.map((r) => r.status)).toEqual([429, 200]);
    const edits = world.discord.requestsTo({ ...PATCH, since });
    expect(edits.filter((r) => r.status === 429)).toHaveLength(1);
    expect(edits.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    // Nothing went over Discord's limits meanwhile (no 429 loop).
    expect(world.discord.requests.filter((r) => r.seq > since && r.overLimit)).toEqual([]);
  });

  it('retries 500 and 502 on the post and edits: the reply arrives once', async () => {
    world.llm.next({ chunks: ['Storms ', 'pass, ', 'friend.'], chunkDelayMs: 400 });
    world.discord.failNext({ ...POST, status: 500 });
    world.discord.failNext({ ...PATCH, status: 502, times: 2 });
    const since = mark();
    const asked = world.say(0, 'Aria, will it rain?');
    await finishedAfter(asked, 'Storms pass, friend.');
    expect(world.discord.requestsTo({ ...POST, since }).map((r) => r.status)).toEqual([500, 200]);
    const edits = world.discord.requestsTo({ ...PATCH, since });
    expect(edits.filter((r) => r.status === 502)).toHaveLength(2);
    expect(edits.length).toBeLessThanOrEqual(6);
  });

  it('a post Discord keeps refusing is given up after 4 tries and logged; the next reply works', async () => {
    // The earlier replies have landed (their Discord ids stored).
    expect((await settledEndState(gateway.deps.database.orm, world.discord, [world.channels[0]!.id], world.sent)).problems).toEqual([]);
    world.llm.next({ text: 'You will not see this.' });
    // Discord answers 500 to every webhook post until told otherwise.
    let refusing = true;
    world.discord.failNext({ ...POST, status: 500, times: 1_000, match: () => refusing });
    const since = mark();
    const lost = world.say(0, 'Aria, are you there?');
    const unseen = async () =>
      (await checkEndState(gateway.deps.database.orm, world.discord, [lost.channel_id], world.sent)).problems.filter((p) =>
        p.includes('never shown on Discord'),
      );
    // The reply is written and stored, but every render of it (a streaming one, then the final one) is refused.
    await expect.poll(unseen, { timeout: 20_000 }).toHaveLength(1);
    await expect.poll(() => logs.messages(), { timeout: 20_000 }).toContain('could not update the reply on Discord');
    await (gateway.deps.responder as Responder & { idle(): Promise<void> }).idle();
    refusing = false;
    // What the person sees: nothing for that message, neither the reply nor an error.
    expect(world.discord.messages(lost.channel_id).filter((m) => BigInt(m.id) > BigInt(lost.id))).toEqual([]);
    // Each render is one call and @discordjs/rest's 3 retries: bounded, no loop.
    const refused = world.discord.requestsTo({ ...POST, since });
    expect(refused.every((r) => r.status === 500)).toBe(true);
    expect([4, 8]).toContain(refused.length);

    world.llm.next({ text: 'Here I am.' });
    const later = world.say(0, 'Aria, now?');
    await finishedAfter(later, 'Here I am.');
    // (The refused reply stays a problem, so this waits its full, short, timeout for the later one to land.)
    const after = await settledEndState(gateway.deps.database.orm, world.discord, [lost.channel_id], world.sent, 2_000);
    // Apart from the reply Discord refused, the end state holds: nothing lost, nothing doubled.
    expect(after.problems.filter((p) => !p.includes('never shown on Discord'))).toEqual([]);
    expect(after.orphans).toEqual([]);
  });
});
