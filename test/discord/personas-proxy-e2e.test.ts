import { PermissionFlagsBits } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { resolveActor } from '../../src/core/identity.js';
import { Character, Message, type ICharacter } from '../../src/db/entities/index.js';
import { createPersona } from '../../src/personas/personas.js';
import { usePersona } from '../../src/personas/choices.js';
import type { FakeDiscord, StoredMessage } from '../discord-fake/index.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness;
let discord: FakeDiscord;
const em = () => harness.deps.database.orm.em.fork();
const chats = () => harness.llm.requests.filter((r) => r.path === '/v1/chat/completions');
const lines = (index = -1) =>
  chats()
    .at(index)!
    .body.messages.map((m: { content: string }) => m.content) as string[];
const stored = (discordMessageId: string) => em().findOne(Message, { discordMessageId }, { populate: ['author'] });
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

/** Alice writes; returns her original and the persona's repost of it, once the original is gone. */
async function proxied(
  content: string,
  options: Parameters<FakeDiscord['userSays']>[3] = {},
  userId = harness.alice,
  channelId = harness.channel.id,
) {
  const original = discord.userSays(channelId, userId, content, options);
  const repost = await discord.waitForMessage(
    channelId,
    (m) => Boolean(m.webhook_id) && BigInt(m.id) > BigInt(original.id) && m.author.username !== 'Aria',
    10_000,
  );
  await discord.waitFor(() => discord.message(original.id)!.fake.deleted, 10_000, 'the original deleted');
  await expect.poll(() => stored(repost.id), { timeout: 10_000 }).toBeTruthy();
  return { original, repost };
}

async function ariaAnswers(after: StoredMessage): Promise<StoredMessage> {
  return discord.waitForMessage(
    harness.channel.id,
    (m) => m.author.username === 'Aria' && BigInt(m.id) > BigInt(after.id) && m.content === 'Aria nods.',
    15_000,
  );
}

beforeAll(async () => {
  harness = await startBotHarness();
  discord = harness.discord;
  harness.llm.replyWith((request) => (request.path === '/v1/chat/completions' ? { text: 'Aria nods.' } : undefined));
  const alice = await resolveActor(em(), { user: { id: harness.alice, username: 'alice' }, guild: { id: harness.guild.id } });
  const aria = await createCharacter(em(), alice, { name: 'Aria', personalityPrompt: 'A cheerful bard.', visibility: 'guild' });
  await bindCharacter(em(), alice, { id: harness.channel.id, kind: 'channel' }, aria, { replyMode: 'all' });
  await createPersona(em(), alice.user, {
    name: 'Kestrel',
    description: 'A wandering ranger.',
    avatarUrl: 'https://cdn.example.org/kestrel.png',
    proxyTags: [{ prefix: 'K:' }, { prefix: '[', suffix: ']' }],
  });
});
afterAll(async () => {
  await harness?.close();
});

describe('speaking as a persona through the webhook', () => {
  it('reposts a message in a proxy tag with the persona’s name and avatar, deletes the original, and the character answers it', async () => {
    const before = chats().length;
    const { original, repost } = await proxied('K: Hello Aria, any news?');
    expect(repost).toMatchObject({ content: 'Hello Aria, any news?', author: { username: 'Kestrel' } });
    expect(repost.fake.avatarUrl).toBe('https://cdn.example.org/kestrel.png');
    // The repost goes through the channel's one webhook, the one the characters use.
    expect(discord.webhooks(harness.channel.id)).toHaveLength(1);
    const row = (await stored(repost.id))!;
    expect(row).toMatchObject({
      role: 'user',
      authorName: 'Kestrel',
      content: 'Hello Aria, any news?',
      metadata: { proxiedFrom: original.id },
    });
    expect(row.author!.discordId).toBe(harness.alice);
    expect(await stored(original.id)).toBeNull();
    await ariaAnswers(repost);
    expect(chats().length).toBe(before + 1);
    // One person in the conversation: ST sends their line as written (names only in group chats).
    expect(lines().at(-1)).toMatch(/^(Kestrel: )?Hello Aria, any news\?$/);
  });

  it('carries attachments over, for a [text] tag', async () => {
    const { repost } = await proxied('[Look at this map]', { attachments: [{ name: 'map.png', data: PNG, contentType: 'image/png' }] });
    expect(repost.content).toBe('Look at this map');
    expect(repost.attachments.map((a) => a.filename)).toEqual(['map.png']);
    expect(repost.fake.files[0]!.data.equals(PNG)).toBe(true);
    await ariaAnswers(repost);
  });

  it('its author edits it from the message menu and the history follows; someone else may not', async () => {
    const { repost } = await proxied('K: I have two hawks.');
    await ariaAnswers(repost);
    const refused = await discord
      .messageCommand({ name: 'Edit persona message', targetId: repost.id, userId: harness.bob, channelId: harness.channel.id })
      .waitForReply();
    expect(refused.content).toBe('Only the person who wrote it can change a persona’s message.');
    const opened = discord.messageCommand({
      name: 'Edit persona message',
      targetId: repost.id,
      userId: harness.alice,
      channelId: harness.channel.id,
    });
    expect(JSON.stringify(await opened.waitForModal())).toContain('I have two hawks.');
    expect((await discord.submitModal({ from: opened, values: { content: 'I have one hawk.' } }).waitForReply()).content).toBe('Edited.');
    expect(discord.message(repost.id)!.content).toBe('I have one hawk.');
    expect((await stored(repost.id))!.content).toBe('I have one hawk.');
    discord.userSays(harness.channel.id, harness.bob, 'How many hawks?');
    await expect.poll(() => lines().join('\n'), { timeout: 15_000 }).toContain('Bob: How many hawks?');
    expect(lines()).toContain('Kestrel: I have one hawk.');
    expect(lines().join('\n')).not.toContain('two hawks');
  });

  it('a ❌ from its author deletes it and the history follows (anyone else’s ❌ is just a reaction); so does Apps → Delete', async () => {
    const { repost } = await proxied('K: Forget I said this.');
    await ariaAnswers(repost);
    discord.userReacts(repost.id, harness.bob, '❌');
    discord.userReacts(repost.id, harness.alice, '👍');
    discord.userReacts(repost.id, harness.alice, '❌');
    await discord.waitFor(() => discord.message(repost.id)!.fake.deleted, 10_000, 'the repost deleted');
    await expect.poll(() => stored(repost.id)).toBeNull();
    const second = await proxied('K: And this.');
    await ariaAnswers(second.repost);
    expect(
      (
        await discord
          .messageCommand({
            name: 'Delete persona message',
            targetId: second.repost.id,
            userId: harness.alice,
            channelId: harness.channel.id,
          })
          .waitForReply()
      ).content,
    ).toBe('Deleted.');
    expect(discord.message(second.repost.id)!.fake.deleted).toBe(true);
    expect(await stored(second.repost.id)).toBeNull();
  });

  it('autoproxy reposts every message as the persona worn here; a leading backslash sends one as plain you', async () => {
    const autoproxy = await discord
      .slashCommand({
        name: 'persona',
        subcommand: 'autoproxy',
        options: { on: true, persona: 'Kestrel' },
        userId: harness.alice,
        channelId: harness.channel.id,
      })
      .waitForReply();
    expect(autoproxy.content).toContain('reposted as **Kestrel**');
    const { repost } = await proxied('No tags needed now.');
    expect(repost.author.username).toBe('Kestrel');
    await ariaAnswers(repost);
    const plain = discord.userSays(harness.channel.id, harness.alice, '\\out of character: brb');
    await expect.poll(() => stored(plain.id), { timeout: 10_000 }).toBeTruthy();
    expect(discord.message(plain.id)!.fake.deleted).toBe(false);
    await discord
      .slashCommand({
        name: 'persona',
        subcommand: 'autoproxy',
        options: { on: false },
        userId: harness.alice,
        channelId: harness.channel.id,
      })
      .waitForReply();
    await ariaAnswers(plain);
  });

  it('without Manage Messages it says so once and leaves the message as it is', async () => {
    const locked = discord.addTextChannel(harness.guild.id, {
      name: 'locked',
      permissionOverwrites: [{ id: discord.botUser.id, type: 1, allow: '0', deny: String(PermissionFlagsBits.ManageMessages) }],
    });
    const alice = await resolveActor(em(), { user: { id: harness.alice, username: 'alice' }, guild: { id: harness.guild.id } });
    const aria = (await em().findOneOrFail(Character, { name: 'Aria' })) as ICharacter;
    await bindCharacter(em(), alice, { id: locked.id, kind: 'channel' }, aria, { replyMode: 'all' });
    const first = discord.userSays(locked.id, harness.alice, 'K: Can you hear me?');
    await expect.poll(() => stored(first.id), { timeout: 10_000 }).toBeTruthy();
    const second = discord.userSays(locked.id, harness.alice, 'K: Hello?');
    await expect.poll(() => stored(second.id), { timeout: 10_000 }).toBeTruthy();
    const notices = discord.messages(locked.id).filter((m) => m.author.id === discord.botUser.id && m.content.includes('Manage Messages'));
    expect(notices).toHaveLength(1);
    expect(discord.message(first.id)!.fake.deleted).toBe(false);
    expect(discord.webhookMessages(locked.id).filter((m) => m.author.username === 'Kestrel')).toEqual([]);
    expect((await stored(first.id))!.content).toBe('K: Can you hear me?');
  });
});
