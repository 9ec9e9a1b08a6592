import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnedDeps } from '../../src/deps.js';
import { Message } from '../../src/db/entities/index.js';
import type { FakeDiscord, StoredChannel, StoredGuild } from '../discord-fake/index.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

let llm: FakeServer;
let discord: FakeDiscord;
let deps: OwnedDeps;
let channel: StoredChannel;
let guild: StoredGuild;
let alice: string;
let bob: string;

const chats = () => llm.requests.filter((r) => r.path === '/v1/chat/completions');
const webhookMessages = () => discord.webhookMessages(channel.id).filter((m) => !m.fake.deleted);

let harness: BotHarness;

beforeAll(async () => {
  harness = await startBotHarness();
  ({ llm, discord, deps, channel, guild, alice, bob } = harness);
});

afterAll(async () => {
  await harness?.close();
});

describe('the bot through a fake Discord, with the real discord.js client', () => {
  it('creates a character from /character create and its modal', async () => {
    const command = discord.slashCommand({
      name: 'character',
      subcommand: 'create',
      options: { visibility: 'guild' },
      userId: alice,
      channelId: channel.id,
    });
    const shown = await command.waitForResponse();
    expect(shown.type).toBe(9);
    const submit = discord.submitModal({
      from: command,
      values: {
        name: 'Aria',
        personality: 'A cheerful bard who loves puns.',
        greeting: 'Hello {{user}}, pull up a chair!',
        examples: '',
        avatar: 'https://cdn.example.org/aria.png',
      },
    });
    const reply = await submit.waitForResponse();
    expect(reply.data.content).toContain('**Aria** is ready');
    expect(reply.data.flags & 64).toBe(64);
  });

  it('binds the character with /chat start, which greets through a webhook with its name and avatar', async () => {
    const start = discord.slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria', answers: 'all' },
      userId: alice,
      channelId: channel.id,
    });
    const reply = await start.waitForResponse();
    expect(reply.data.content).toContain('**Aria** is here');
    const greeting = await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content.startsWith('Hello'));
    expect(greeting.content).toBe('Hello Alice, pull up a chair!');
    expect(greeting.author.username).toBe('Aria');
    expect(greeting.fake.avatarUrl).toBe('https://cdn.example.org/aria.png');
    expect(discord.webhooks(channel.id)).toHaveLength(1);
  });

  it('answers a message as the character, editing the webhook message as tokens stream', async () => {
    llm.next({ chunks: ['Well, ', 'well, ', 'a ', 'visitor! ', 'Sit ', 'down.'], chunkDelayMs: 400 });
    discord.userSays(channel.id, alice, 'Hi Aria, any news from the harbour?');
    const reply = await discord.waitForMessage(
      channel.id,
      (m) => Boolean(m.webhook_id) && m.fake.edits.some((e) => e.content === 'Well, well, a visitor! Sit down.'),
      20_000,
    );
    expect(reply.author.username).toBe('Aria');
    expect(reply.fake.edits.length).toBeGreaterThan(1);
    const first = reply.content.length ? reply.fake.edits[0]!.content : '';
    expect(first.length).toBeLessThan('Well, well, a visitor! Sit down.'.length);
    const times = reply.fake.edits.map((e) => e.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(250);
    const latest = discord.message(reply.id)!;
    expect(latest.content).toBe('Well, well, a visitor! Sit down.');
    expect(JSON.stringify(latest.components)).toContain('chat:regenerate');
    expect(await storedReply(reply.id)).toMatchObject({ role: 'assistant', model: 'fake-model' });
  });

  it('tells two people apart in the prompt', async () => {
    const before = chats().length;
    discord.userSays(channel.id, bob, 'I am Bob, the blacksmith.');
    await expect.poll(() => chats().length, { timeout: 15_000 }).toBeGreaterThan(before);
    const lines = chats()
      .at(-1)!
      .body.messages.map((m: { content: string }) => m.content);
    expect(lines).toContain('Alice: Hi Aria, any news from the harbour?');
    expect(lines).toContain('Bob: I am Bob, the blacksmith.');
    await expect.poll(() => webhookMessages().at(-1)?.content, { timeout: 15_000 }).toBe('Hello there!');
  });

  it('splits a reply longer than 2000 characters over several messages', async () => {
    const long = Array.from({ length: 30 }, (_, i) => `Verse ${i}: ${'the tide comes in and the tide goes out, '.repeat(3)}`).join('\n\n');
    llm.next({ chunks: [long] });
    const count = webhookMessages().length;
    discord.userSays(channel.id, alice, 'Sing me the long ballad.');
    await expect.poll(() => webhookMessages().length, { timeout: 15_000 }).toBeGreaterThanOrEqual(count + 2);
    await expect
      .poll(
        () =>
          webhookMessages()
            .slice(count)
            .map((m) => m.content)
            .join('\n\n')
            .replace(/\s+/g, ' '),
        { timeout: 15_000 },
      )
      .toBe(long.replace(/\s+/g, ' ').trim());
    for (const message of webhookMessages().slice(count)) expect(message.content.length).toBeLessThanOrEqual(2000);
  });

  it('honours a 429 from Discord and still delivers the reply', async () => {
    discord.failNext({ method: 'POST', route: '/webhooks/:webhookId/:token', status: 429, retryAfter: 1 });
    llm.next({ text: 'Patience is a virtue.' });
    const since = discord.requests.at(-1)?.seq ?? 0;
    discord.userSays(channel.id, alice, 'Quick, say something wise.');
    const reply = await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content === 'Patience is a virtue.', 20_000);
    const attempts = discord.requestsTo({ method: 'POST', route: '/webhooks/:webhookId/:token', since });
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(reply.author.username).toBe('Aria');
  });

  it('regenerates the latest reply when its button is pressed', async () => {
    const latest = webhookMessages().at(-1)!;
    llm.next({ text: 'A second, wiser answer.' });
    const press = discord.pressButton(latest.id, `chat:regenerate:${(await storedReply(latest.id)).id}`, alice);
    expect((await press.waitForResponse()).type).toBe(6);
    await expect.poll(() => discord.message(latest.id)?.content, { timeout: 15_000 }).toBe('A second, wiser answer.');
    expect(JSON.stringify(discord.message(latest.id)!.components)).toContain('2/2');
  });

  it('explains a failing provider on the reply itself', async () => {
    llm.next({ status: 401, message: 'bad key' });
    discord.userSays(channel.id, alice, 'Are you still there?');
    const failed = await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content.includes('⚠️'), 15_000);
    expect(failed.content).toMatch(/rejected the API key/);
  });
});

describe('history, status, cards and permissions through Discord', () => {
  it('follows edits and deletions of people’s messages', async () => {
    const said = discord.userSays(channel.id, bob, 'My hammer is made of bronze.');
    await expect.poll(() => deps.database.orm.em.fork().count(Message, { discordMessageId: said.id }), { timeout: 10_000 }).toBe(1);
    discord.userEdits(said.id, 'My hammer is made of iron.');
    await expect
      .poll(async () => (await deps.database.orm.em.fork().findOne(Message, { discordMessageId: said.id }))?.content, { timeout: 10_000 })
      .toBe('My hammer is made of iron.');
    discord.userDeletes(said.id);
    await expect.poll(() => deps.database.orm.em.fork().count(Message, { discordMessageId: said.id }), { timeout: 10_000 }).toBe(0);
  });

  it('shows /chat status and ends with /chat end', async () => {
    const status = await discord
      .slashCommand({ name: 'chat', subcommand: 'status', userId: alice, channelId: channel.id })
      .waitForResponse();
    const embed = status.data.embeds[0];
    expect(embed.title).toBe('Aria in this channel');
    expect(JSON.stringify(embed.fields)).toContain('fake-model');
    const end = await discord.slashCommand({ name: 'chat', subcommand: 'end', userId: alice, channelId: channel.id }).waitForResponse();
    expect(end.data.content).toContain('**Aria** has left');
    const again = await discord.slashCommand({ name: 'chat', subcommand: 'end', userId: alice, channelId: channel.id }).waitForResponse();
    expect(again.data.content).toBe('No character is bound to this channel.');
    expect(again.data.flags & 64).toBe(64);
  });

  it('imports a PNG card from an attachment and exports it back', async () => {
    const { exportCardPng } = await import('../../src/cards/export-card.js');
    const png = exportCardPng({
      spec: 'chara_card_v2',
      spec_version: '2.0',
      data: {
        name: 'Borin',
        description: 'A grumpy dwarf smith.',
        first_mes: 'Hrmph.',
        character_book: {
          extensions: {},
          entries: [
            { keys: ['anvil'], content: 'Borin’s anvil is older than the town.', enabled: true, insertion_order: 0, extensions: {} },
          ],
        },
      },
    });
    const command = discord.slashCommand({
      name: 'character',
      subcommand: 'import',
      options: { file: { name: 'borin.png', data: png, contentType: 'image/png' } },
      userId: alice,
      channelId: channel.id,
    });
    await expect
      .poll(() => command.responses.find((r) => r.kind === 'edit-original')?.data.content, { timeout: 15_000 })
      .toContain('Imported **Borin**, with 1 lore entries');
    const exported = discord.slashCommand({
      name: 'character',
      subcommand: 'export',
      options: { character: 'Borin' },
      userId: alice,
      channelId: channel.id,
    });
    await expect.poll(() => exported.responses.find((r) => r.files.length)?.files.length, { timeout: 15_000 }).toBe(1);
    const { parseCard } = await import('../../src/cards/parse-card.js');
    const file = exported.responses.find((r) => r.files.length)!.files[0]!;
    expect((await parseCard(file.data)).fields).toMatchObject({ name: 'Borin', greeting: 'Hrmph.' });
    const broken = discord.slashCommand({
      name: 'character',
      subcommand: 'import',
      options: { file: { name: 'bad.png', data: png.subarray(0, 200), contentType: 'image/png' } },
      userId: alice,
      channelId: channel.id,
    });
    await expect.poll(() => broken.responses.map((r) => r.data?.content).join(' '), { timeout: 15_000 }).toMatch(/damaged or cut short/);
  });

  it('speaks through plain bot messages, saying so once, without Manage Webhooks', async () => {
    const { PermissionFlagsBits } = await import('discord.js');
    const other = discord.addTextChannel(guild.id, {
      name: 'no-webhooks',
      permissionOverwrites: [{ id: guild.botRoleId, type: 0, allow: '0', deny: String(PermissionFlagsBits.ManageWebhooks) }],
    });
    await discord
      .slashCommand({
        name: 'chat',
        subcommand: 'start',
        options: { character: 'Aria', answers: 'all' },
        userId: alice,
        channelId: other.id,
      })
      .waitForResponse();
    llm.next({ text: 'Fine, I will use my own voice.' });
    discord.userSays(other.id, alice, 'Hello?');
    const reply = await discord.waitForMessage(other.id, (m) => m.content.includes('Fine, I will use my own voice.'), 15_000);
    expect(reply.webhook_id).toBeFalsy();
    expect(reply.content.startsWith('**Aria**\n')).toBe(true);
    const notices = discord.messages(other.id).filter((m) => m.content.includes('Manage Webhooks'));
    expect(notices).toHaveLength(1);
    llm.next({ text: 'Still me.' });
    discord.userSays(other.id, alice, 'Again?');
    await discord.waitForMessage(other.id, (m) => m.content.includes('Still me.'), 15_000);
    expect(discord.messages(other.id).filter((m) => m.content.includes('Manage Webhooks'))).toHaveLength(1);
  });

  it('tells the person in plain words when the greeting could not be posted, and keeps it out of the conversation', async () => {
    const { PermissionFlagsBits } = await import('discord.js');
    const mute = String(PermissionFlagsBits.ManageWebhooks | PermissionFlagsBits.SendMessages);
    const other = discord.addTextChannel(guild.id, {
      name: 'read-only',
      permissionOverwrites: [{ id: guild.botRoleId, type: 0, allow: '0', deny: mute }],
    });
    const start = discord.slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria', answers: 'all' },
      userId: alice,
      channelId: other.id,
    });
    expect((await start.waitForResponse()).data.content).toContain('**Aria** is here');
    const told = await start.waitForFollowUp(() => true, 15_000);
    expect(told.content).toMatch(/^Aria's greeting could not be posted here, so it was left out\. Aria still answers messages\./);
    expect(told.flags! & 64).toBe(64);
    expect(discord.messages(other.id).filter((m) => m.content.includes('pull up a chair'))).toHaveLength(0);
    const conversation = await deps.database.orm.em.fork().count(Message, { conversation: { discordChannelId: other.id } });
    expect(conversation).toBe(0);
  });
});

/** The stored reply shown as this Discord message (its id is saved just after the reply is shown). */
async function storedReply(discordMessageId: string) {
  await expect.poll(() => deps.database.orm.em.fork().count(Message, { discordMessageId }), { timeout: 10_000 }).toBe(1);
  return deps.database.orm.em.fork().findOneOrFail(Message, { discordMessageId });
}
