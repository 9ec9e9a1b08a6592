import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeDiscord, StoredChannel, StoredGuild } from '../discord-fake/index.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness;
let llm: FakeServer;
let discord: FakeDiscord;
let channel: StoredChannel;
let guild: StoredGuild;
let alice: string;
let bob: string;

const chats = () => llm.requests.filter((r) => r.path === '/v1/chat/completions');
const webhookMessages = () => discord.webhookMessages(channel.id).filter((m) => !m.fake.deleted);
const usage = (userId: string, subcommand: string, options: Record<string, number> = {}) =>
  discord.slashCommand({ name: 'usage', subcommand, options, userId, channelId: channel.id });
/** The final answer of a command, whether it replied at once or deferred and edited. */
async function answer(command: ReturnType<typeof usage>) {
  const first = await command.waitForResponse();
  expect(first.data.flags & 64).toBe(64); // private: deferred or replied as ephemeral
  await expect
    .poll(() => command.responses.some((r) => r.data && (r.data.content || r.data.embeds?.length)), { timeout: 15_000 })
    .toBe(true);
  return command.responses.filter((r) => r.data && (r.data.content || r.data.embeds?.length)).at(-1)!;
}

beforeAll(async () => {
  harness = await startBotHarness({ REPLY_FOOTER: 'true' });
  ({ llm, discord, channel, guild, alice, bob } = harness);
  const create = discord.slashCommand({
    name: 'character',
    subcommand: 'create',
    options: { visibility: 'guild' },
    userId: alice,
    channelId: channel.id,
  });
  await create.waitForResponse();
  await discord
    .submitModal({ from: create, values: { name: 'Aria', personality: 'A cheerful bard.', greeting: '', examples: '', avatar: '' } })
    .waitForResponse();
  await discord
    .slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria', answers: 'all' },
      userId: alice,
      channelId: channel.id,
    })
    .waitForResponse();
});

afterAll(async () => {
  await harness?.close();
});

describe('usage and budgets through a fake Discord', () => {
  it('shows model and tokens under a finished reply, above the buttons', async () => {
    llm.next({ chunks: ['Well met, ', 'traveller!'], usage: { input: 812, output: 96 } });
    discord.userSays(channel.id, alice, 'Hello Aria!');
    const reply = await discord.waitForMessage(
      channel.id,
      (m) => Boolean(m.webhook_id) && m.content.startsWith('Well met, traveller!\n-#'),
      20_000,
    );
    expect(reply.content).toBe('Well met, traveller!\n-# fake-model · 812 → 96 tokens');
    expect(JSON.stringify(discord.message(reply.id)!.components)).toContain('chat:regenerate');
  });

  it('keeps the footer whole in the last message of a reply split past 2000 characters', async () => {
    const long = Array.from({ length: 30 }, (_, i) => `Verse ${i}: ${'the tide comes in and the tide goes out, '.repeat(3)}`).join('\n\n');
    llm.next({ chunks: [long], usage: { input: 1500, output: 1200 } });
    const count = webhookMessages().length;
    discord.userSays(channel.id, bob, 'Sing me the long ballad.');
    await expect
      .poll(() => webhookMessages().at(-1)?.content.endsWith('-# fake-model · 1,500 → 1,200 tokens'), { timeout: 20_000 })
      .toBe(true);
    const parts = webhookMessages().slice(count);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    for (const part of parts) expect(part.content.length).toBeLessThanOrEqual(2000);
    expect(parts.filter((part) => part.content.includes('-#'))).toHaveLength(1);
    expect(
      parts
        .map((m) => m.content)
        .join('\n\n')
        .replace('\n-# fake-model · 1,500 → 1,200 tokens', '')
        .replace(/\s+/g, ' '),
    ).toBe(long.replace(/\s+/g, ' ').trim());
    expect(JSON.stringify(discord.message(parts.at(-1)!.id)!.components)).toContain('chat:regenerate');
  });

  it('/usage show gives a person their own replies, tokens and limits, privately', async () => {
    const shown = await answer(usage(alice, 'show'));
    expect(shown.data.embeds).toHaveLength(1);
    const text = JSON.stringify(shown.data.embeds[0]);
    expect(shown.data.embeds[0].title).toBe('Your usage');
    expect(text).toContain('**1** replies · **908** tokens');
    expect(text).toContain('`fake-model`: 1 · 908 tokens');
    expect(text).toContain('Your messages this minute');
    expect(text).not.toContain('Server tokens today');
  });

  it('/usage show gives a server admin the server’s totals and top users by mention', async () => {
    const shown = await answer(usage(guild.ownerId, 'show'));
    expect(shown.data.embeds).toHaveLength(2);
    const server = JSON.stringify(shown.data.embeds[1]);
    expect(shown.data.embeds[1].title).toBe('This server');
    expect(server).toContain('**2** replies · **3,608** tokens');
    expect(server).toContain(`1. <@${bob}>: 1 replies · 2,700 tokens`);
    expect(server).toContain(`2. <@${alice}>: 1 replies · 908 tokens`);
    expect(JSON.stringify(shown.data.embeds[0])).toContain('Server tokens today: 3,608 of 5,000,000');
  });

  it('lets only an admin lower the server’s limits; over one, the reply is a polite notice and no model is called', async () => {
    const refused = await answer(usage(bob, 'limits', { user_tokens_per_day: 100 }));
    expect(refused.data.content).toBe('Only server admins (Manage Server) can change this server’s limits.');
    const set = await answer(usage(guild.ownerId, 'limits', { user_tokens_per_day: 100 }));
    expect(set.data.content).toContain('Tokens a day, per person: **100** (set by this server)');
    expect(set.data.content).toContain('Messages a minute, per person: **20**');
    const before = chats().length;
    const said = discord.userSays(channel.id, alice, 'One more song?');
    const notice = await discord.waitForMessage(channel.id, (m) => m.content.includes('⚠️'), 15_000);
    expect(notice.content).toMatch(/^⚠️ You've used your 100 tokens for today; they reset at 00:00 UTC \(in (\d+ h )?\d+ min\)\.$/);
    expect(chats().length).toBe(before);
    const { Message } = await import('../../src/db/entities/index.js');
    expect(await harness.deps.database.orm.em.fork().count(Message, { discordMessageId: said.id })).toBe(1);
    const reset = await answer(usage(guild.ownerId, 'limits', { user_tokens_per_day: 0 }));
    expect(reset.data.content).toContain('Tokens a day, per person: **500,000**');
    llm.next({ text: 'Of course!' });
    discord.userSays(channel.id, alice, 'Please?');
    await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content.startsWith('Of course!'), 15_000);
  });
});
