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

async function importCard(card: Record<string, unknown>, picture: Buffer, channelId = channel.id) {
  const png = exportCardPng({ spec: 'chara_card_v2', spec_version: '2.0', data: card }, picture);
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
    await discord.slashCommand({ name: 'chat', subcommand: 'end', userId: alice, channelId: channel.id }).waitForResponse();
  });
});
