import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCardPng, placeholderPng } from '../../src/cards/export-card.js';
import { Character } from '../../src/db/entities/index.js';
import type { OwnedDeps } from '../../src/deps.js';
import type { FakeDiscord, StoredChannel } from '../discord-fake/index.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness;
let discord: FakeDiscord;
let llm: FakeServer;
let deps: OwnedDeps;
let channel: StoredChannel;
let alice: string;

const DAY_MS = 24 * 60 * 60_000;
const refreshCalls = () => discord.requestsTo({ method: 'POST', route: '/attachments/refresh-urls' });

beforeAll(async () => {
  harness = await startBotHarness();
  ({ discord, llm, deps, channel, alice } = harness);
});

afterAll(async () => {
  await harness?.close();
});

async function importCard(card: Record<string, unknown>, picture: Buffer = placeholderPng(8), channelId = channel.id) {
  const spec =
    'group_only_greetings' in card ? { spec: 'chara_card_v3', spec_version: '3.0' } : { spec: 'chara_card_v2', spec_version: '2.0' };
  const png = exportCardPng({ ...spec, data: card }, picture);
  const command = discord.slashCommand({
    name: 'character',
    subcommand: 'import',
    options: { file: { name: `${String(card.name)}.png`, data: png, contentType: 'image/png' }, visibility: 'guild' },
    userId: alice,
    channelId,
  });
  await expect
    .poll(() => command.responses.find((r) => r.kind === 'edit-original')?.data.content, { timeout: 15_000 })
    .toContain(`Imported **${String(card.name)}**`);
  return png;
}

describe('avatars that last', () => {
  it('posts past the expiry of the card’s Discord link with a refreshed link the CDN serves', async () => {
    // The card was uploaded a day and an hour ago: Discord signed its link for a day, so it expired an hour ago.
    discord.cdnClock.set(Date.now() - DAY_MS - 60 * 60_000);
    const png = await importCard(
      { name: 'Borin', description: 'A grumpy dwarf smith.', first_mes: 'Hrmph.' },
      placeholderPng(16, [200, 90, 40]),
    );
    discord.cdnClock.reset();
    const stored = await deps.database.orm.em.fork().findOneOrFail(Character, { name: 'Borin' });
    const expired = stored.avatarUrl!;
    expect(new URL(expired).searchParams.get('ex')).toMatch(/^[0-9a-f]+$/);
    expect((await fetch(expired)).status).toBe(404);

    const refreshesBefore = refreshCalls().length;
    await discord
      .slashCommand({
        name: 'chat',
        subcommand: 'start',
        options: { character: 'Borin', answers: 'all' },
        userId: alice,
        channelId: channel.id,
      })
      .waitForResponse();
    const greeting = await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content === 'Hrmph.', 15_000);
    const posted = greeting.fake.avatarUrl!;
    expect(posted).not.toBe(expired);
    const served = await fetch(posted);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
    expect(refreshCalls().length).toBe(refreshesBefore + 1);

    // The refreshed link is kept until its own expiry: the next post asks Discord nothing.
    llm.next({ text: 'What do you want?' });
    discord.userSays(channel.id, alice, 'Good morning, Borin.');
    const reply = await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content === 'What do you want?', 15_000);
    expect(reply.fake.avatarUrl).toBe(posted);
    expect(refreshCalls().length).toBe(refreshesBefore + 1);

    // Discord deletes a file for good (it does so with a slash command's uploads, after a time it does not promise):
    // once the refreshed link expires too, the post goes without an avatar rather than with a broken one.
    // A link to it signed two days ago stands for the character's stored one (the bot keeps its refreshed link a day).
    discord.cdnClock.set(Date.now() - 2 * DAY_MS);
    const answer = await fetch(`${discord.restUrl}/v10/attachments/refresh-urls`, {
      method: 'POST',
      headers: { authorization: `Bot ${discord.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ attachment_urls: [expired] }),
    });
    discord.cdnClock.reset();
    const old = ((await answer.json()) as { refreshed_urls: { refreshed: string }[] }).refreshed_urls[0]!.refreshed;
    discord.store.files.delete(new URL(expired).pathname.split('/')[3]!);
    await deps.database.orm.em.fork().nativeUpdate(Character, { id: stored.id }, { avatarUrl: old });
    llm.next({ text: 'Still here.' });
    discord.userSays(channel.id, alice, 'Still there, Borin?');
    const later = await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content === 'Still here.', 15_000);
    expect(later.fake.avatarUrl).toBeUndefined();
    await discord.slashCommand({ name: 'chat', subcommand: 'end', userId: alice, channelId: channel.id }).waitForResponse();
  });
});

const chats = () => llm.requests.filter((r) => r.path === '/v1/chat/completions');
const promptText = (request: (typeof llm.requests)[number]) =>
  request.body.messages
    .map((m: { content: unknown }) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
    .join('\n');
const componentIds = (message: { components?: unknown }) => JSON.stringify(message.components ?? []);

describe('greetings', () => {
  it('offers a card’s alternate greetings as ◀ ▶ versions of the greeting, and the one chosen is what the character remembers', async () => {
    await importCard({
      name: 'Mira',
      description: 'A ferry captain.',
      first_mes: 'Welcome aboard, {{user}}.',
      alternate_greetings: ['The ferry is late again, {{user}}.', 'Storm coming. Hold on.'],
    });
    await discord
      .slashCommand({
        name: 'chat',
        subcommand: 'start',
        options: { character: 'Mira', answers: 'all' },
        userId: alice,
        channelId: channel.id,
      })
      .waitForResponse();
    const greeting = await discord.waitForMessage(
      channel.id,
      (m) => Boolean(m.webhook_id) && m.content === 'Welcome aboard, Alice.',
      15_000,
    );
    expect(componentIds(greeting)).toContain('1/3');
    expect(componentIds(greeting)).not.toContain('chat:regenerate');
    const swipe = /"(chat:swipe:[^"]+:1)"/.exec(componentIds(greeting))![1]!;
    discord.pressButton(greeting.id, swipe, alice);
    await expect.poll(() => discord.message(greeting.id)?.content, { timeout: 15_000 }).toBe('The ferry is late again, Alice.');
    expect(componentIds(discord.message(greeting.id)!)).toContain('2/3');

    const before = chats().length;
    llm.next({ text: 'Aye, late as ever.' });
    discord.userSays(channel.id, alice, 'Why is it late?');
    await expect.poll(() => chats().length, { timeout: 15_000 }).toBeGreaterThan(before);
    const prompt = promptText(chats().at(-1)!);
    expect(prompt).toContain('The ferry is late again, Alice.');
    expect(prompt).not.toContain('Welcome aboard, Alice.');
    await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content === 'Aye, late as ever.', 15_000);
    await discord.slashCommand({ name: 'chat', subcommand: 'end', userId: alice, channelId: channel.id }).waitForResponse();
  });

  // SillyTavern uses group-only greetings only in group chats: public/scripts/group-chats.js getFirstCharacterMessage
  // picks a member's first message from first_mes + alternate_greetings, and the official Group Greetings extension
  // (SillyTavern/Extension-GroupGreetings, src/handlers/greetingHandler.js, reading data.group_only_greetings) replaces
  // it with one of the group greetings there; a one-to-one chat (script.js getFirstMessage) never uses them.
  it('opens a scene with the card’s group-only greetings, and a one-to-one chat without them', async () => {
    await importCard({
      name: 'Tobin',
      description: 'An innkeeper.',
      first_mes: 'Just you tonight?',
      alternate_greetings: ['Back again?'],
      group_only_greetings: ['Quite the crowd tonight!', 'Tables for everyone, then.'],
    });
    await importCard({ name: 'Wren', description: 'A traveller.', first_mes: 'Evening.' });
    const started = await discord
      .slashCommand({
        name: 'scene',
        subcommand: 'start',
        options: { characters: 'Tobin, Wren', title: 'Busy night' },
        userId: alice,
        channelId: channel.id,
      })
      .waitForReply();
    const threadId = /<#(\d+)>/.exec(started.content)![1]!;
    const inScene = await discord.waitForMessage(threadId, (m) => Boolean(m.webhook_id), 15_000);
    expect(inScene.content).toBe('Quite the crowd tonight!');
    expect(componentIds(inScene)).toContain('1/2');
    const swipe = /"(chat:swipe:[^"]+:1)"/.exec(componentIds(inScene))![1]!;
    discord.pressButton(inScene.id, swipe, alice);
    await expect.poll(() => discord.message(inScene.id)?.content, { timeout: 15_000 }).toBe('Tables for everyone, then.');

    await discord
      .slashCommand({ name: 'chat', subcommand: 'start', options: { character: 'Tobin' }, userId: alice, channelId: channel.id })
      .waitForResponse();
    const alone = await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content === 'Just you tonight?', 15_000);
    expect(componentIds(alone)).toContain('1/2');
    await discord.slashCommand({ name: 'chat', subcommand: 'end', userId: alice, channelId: channel.id }).waitForResponse();
  });
});

describe('a card’s lorebook in the prompt', () => {
  // ST's WorldInfoBuffer.get (public/scripts/world-info.js): an entry with extensions.match_character_description
  // (convertCharacterBook) also scans the card's description for its keys; the same entry without it scans only
  // the last messages. (The first entry's text does not name the guild, or recursion would bring in the second.)
  it('fires an entry whose key is only in the description when the entry asks to scan the description', async () => {
    await importCard({
      name: 'Sable',
      description: 'Sable is a sworn member of the Silver Guild.',
      first_mes: 'Well met.',
      character_book: {
        entries: [
          {
            keys: ['Silver Guild'],
            content: 'Its members meet under the old bridge.',
            enabled: true,
            insertion_order: 100,
            extensions: { match_character_description: true },
          },
          { keys: ['Silver Guild'], content: 'The Silver Guild pays in copper.', enabled: true, insertion_order: 100 },
        ],
      },
    });
    await discord
      .slashCommand({
        name: 'chat',
        subcommand: 'start',
        options: { character: 'Sable', answers: 'all' },
        userId: alice,
        channelId: channel.id,
      })
      .waitForResponse();
    await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content === 'Well met.', 15_000);
    const before = chats().length;
    llm.next({ text: 'Evening to you too.' });
    discord.userSays(channel.id, alice, 'Good evening.');
    await expect.poll(() => chats().length, { timeout: 15_000 }).toBeGreaterThan(before);
    const prompt = promptText(chats().at(-1)!);
    expect(prompt).toContain('Its members meet under the old bridge.');
    expect(prompt).not.toContain('The Silver Guild pays in copper.');
    await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content === 'Evening to you too.', 15_000);
    await discord.slashCommand({ name: 'chat', subcommand: 'end', userId: alice, channelId: channel.id }).waitForResponse();
  });
});
