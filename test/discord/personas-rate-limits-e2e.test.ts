import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { resolveActor } from '../../src/core/identity.js';
import { Message } from '../../src/db/entities/index.js';
import { createPersona } from '../../src/personas/personas.js';
import type { FakeDiscord } from '../discord-fake/index.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

// Issue 19: the webhook's limits (5 requests per 2 s per webhook, one webhook per channel) are shared by the
// persona reposts and the characters' posts. The fake Discord answers with Discord's buckets and headers here, and
// a 429 when a call goes over; a burst must still all arrive, in order, with nothing failing in front of anyone.
let harness: BotHarness;
let discord: FakeDiscord;
const em = () => harness.deps.database.orm.em.fork();
/** How many lines the burst has (PERSONA_BURST to measure another size). */
const N = Number(process.env.PERSONA_BURST ?? 8);

beforeAll(async () => {
  harness = await startBotHarness({}, { rateLimits: 'discord' });
  discord = harness.discord;
  harness.llm.replyWith((request) => (request.path === '/v1/chat/completions' ? { text: 'Aria nods.' } : undefined));
  const alice = await resolveActor(em(), { user: { id: harness.alice, username: 'alice' }, guild: { id: harness.guild.id } });
  const aria = await createCharacter(em(), alice, { name: 'Aria', personalityPrompt: 'A cheerful bard.', visibility: 'guild' });
  await bindCharacter(em(), alice, { id: harness.channel.id, kind: 'channel' }, aria, { replyMode: 'all' });
  await createPersona(em(), alice.user, { name: 'Kestrel', description: 'A wandering ranger.', proxyTags: [{ prefix: 'K:' }] });
});
afterAll(async () => {
  await harness?.close();
});

describe('webhook rate limits shared by persona reposts and character replies', () => {
  it(`a burst of ${N} proxied messages and Aria's replies in one channel all arrive, in order, with no 429 reaching anyone`, async () => {
    const channelId = harness.channel.id;
    const lines = Array.from({ length: N }, (_, i) => `Line ${i + 1} of the tale.`);
    // Another process posting through the same webhook (a reply worker has its own REST client, so its own idea of
    // the bucket) can still use it up: Discord then answers 429, which must be waited out, never shown.
    discord.failNext({ method: 'POST', route: '/webhooks/:webhookId/:token', status: 429, retryAfter: 0.5, times: 2 });
    const started = performance.now();
    const originals = lines.map((line) => discord.userSays(channelId, harness.alice, `K: ${line}`));
    await discord.waitFor(() => originals.every((o) => discord.message(o.id)!.fake.deleted), 60_000, 'every original deleted');
    const reposts = discord.webhookMessages(channelId).filter((m) => m.author.username === 'Kestrel');
    const repostsDone = performance.now();
    // In the order written, on Discord and in the history.
    expect(reposts.map((m) => m.content)).toEqual(lines);
    await expect
      .poll(async () => (await em().find(Message, { role: 'user' }, { orderBy: { createdAt: 'asc', id: 'asc' } })).map((m) => m.content), {
        timeout: 10_000,
      })
      .toEqual(lines);
    // Aria answers (replies coalesce while one is being written): one reply comes after the last line, finished.
    const last = reposts.at(-1)!;
    const reply = await discord.waitForMessage(
      channelId,
      (m) => m.author.username === 'Aria' && BigInt(m.id) > BigInt(last.id) && m.content === 'Aria nods.',
      60_000,
    );
    // Every reply ends as Aria's answer (another reply after the last line may still be streaming when that one is
    // done: wait for all of them; one left showing an error or half written fails here).
    const arias = () => discord.webhookMessages(channelId).filter((m) => m.author.username === 'Aria');
    await discord.waitFor(() => arias().every((m) => m.content === 'Aria nods.'), 60_000, 'every reply of Aria finished');
    const finished = performance.now();
    const replies = arias();
    // Nothing went wrong in front of the person: no notice from the bot.
    expect(discord.messages(channelId).filter((m) => m.author.id === discord.botUser.id)).toEqual([]);
    expect(reply.fake.deleted).toBe(false);
    // Reposts and replies went through the channel's one webhook; the scripted 429s were met and waited out.
    expect(discord.webhooks(channelId)).toHaveLength(1);
    expect(discord.requests.filter((r) => r.status === 429 && r.injected)).toHaveLength(2);
    const webhookCalls = discord.requests.filter((r) => r.route.startsWith('/webhooks/:webhookId/:token'));
    const limited = discord.requests.filter((r) => r.status === 429);
    console.log(
      `${N} proxied lines: reposted in ${Math.round(repostsDone - started)} ms, last reply done at ` +
        `${Math.round(finished - started)} ms; ${replies.length} replies; ${webhookCalls.length} webhook calls; ` +
        `429 answers: ${limited.map((r) => `${r.method} ${r.route}${r.injected ? ' (scripted)' : ''}`).join(', ') || 'none'}`,
    );
  });
});
