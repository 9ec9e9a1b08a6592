import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Message, StoryBranch } from '../../src/db/entities/index.js';
import { startWorkers } from '../../src/workers.js';
import type { FakeInteraction, StoredChannel, StoredMessage } from '../discord-fake/index.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Ids that arrive in a custom_id are the presser's to choose (a modified client sends any): a reply of one server's
 * channel named by a button pressed in another server or a DM must do nothing there (no text posted, no prompt
 * built, no version added, no sources shown), and an NSFW character's reply is checked against its own character,
 * not whoever is bound to the channel now.
 */
const SECRET_LORE = 'The vault under the Velvet Room opens with 4417.';
let h: BotHarness;
let afterDark: StoredChannel;
let lobby: StoredChannel;
let bobDm: StoredChannel;
let nyxReply: { discord: StoredMessage; id: string };
let lobbyMessage: StoredMessage;
let dmMessage: StoredMessage;

const em = () => h.deps.database.orm.em.fork();
const chats = () => h.llm.requests.filter((r) => r.path === '/v1/chat/completions').length;

async function run(userId: string, channelId: string, name: string, subcommand: string, options: Record<string, string | boolean> = {}) {
  return (await h.discord.slashCommand({ name, subcommand, options, userId, channelId }).waitForResponse(undefined, 15_000)).data;
}

async function createCharacter(userId: string, channelId: string, name: string, options: Record<string, string | boolean>) {
  const create = h.discord.slashCommand({ name: 'character', subcommand: 'create', options, userId, channelId });
  await create.waitForModal(15_000);
  await h.discord
    .submitModal({ from: create, values: { name, personality: `${name} is a test.`, greeting: '', examples: '', avatar: '' } })
    .waitForReply(15_000);
}

/** Someone talks to the character bound in `channelId`; resolves with its finished reply (buttons on it) and the stored row. */
async function replyIn(channelId: string, userId: string, text: string, answer: string) {
  h.llm.next({ text: answer });
  h.discord.userSays(channelId, userId, text);
  // In a DM the bot posts as itself, the character's name in bold first.
  const shown = await h.discord.waitForMessage(
    channelId,
    (m) => m.content.endsWith(answer) && JSON.stringify(m.components ?? []).includes('chat:regenerate'),
    20_000,
  );
  const stored = await waitFor(
    () =>
      em()
        .findOne(Message, { discordMessageId: shown.id })
        .then((m) => m ?? undefined),
    'the stored reply',
  );
  return { discord: shown, id: stored.id };
}

/** The refusal a forged press gets: ephemeral, plain words (a follow-up after the deferred update, or a reply). */
async function refusalOf(press: FakeInteraction): Promise<{ content: string; ephemeral: boolean }> {
  const response = await press.waitForResponse((r) => typeof r.data?.content === 'string', 15_000);
  return { content: String(response.data!.content), ephemeral: (((response.data!.flags as number | undefined) ?? 0) & 64) === 64 };
}

beforeAll(async () => {
  h = await startBotHarness();
  await startWorkers(h.deps);
  afterDark = h.discord.addTextChannel(h.guild.id, { name: 'after-dark', nsfw: true });
  await createCharacter(h.alice, h.channel.id, 'Nyx', { visibility: 'guild', nsfw: true });
  await createCharacter(h.alice, h.channel.id, 'Sunny', { visibility: 'guild' });
  const lore = await run(h.alice, h.channel.id, 'lore', 'add', { character: 'Nyx', keys: 'vault', content: SECRET_LORE, name: 'Vault' });
  expect(String(lore.content)).toContain('Added');
  expect(String((await run(h.alice, afterDark.id, 'chat', 'start', { character: 'Nyx', answers: 'all' })).content)).toContain(
    '**Nyx** is here',
  );
  nyxReply = await replyIn(afterDark.id, h.alice, 'Nyx, where is the vault?', 'Under the Velvet Room, darling.');
  // Bob's own server, and his DM with the bot, each with a character and a reply the forged presses are made on.
  const elsewhere = h.discord.addGuild({ name: 'Elsewhere', ownerId: h.bob });
  lobby = h.discord.addTextChannel(elsewhere.id, { name: 'lobby' });
  await createCharacter(h.bob, lobby.id, 'Pip', { visibility: 'public' });
  expect(String((await run(h.bob, lobby.id, 'chat', 'start', { character: 'Pip', answers: 'all' })).content)).toContain('**Pip** is here');
  lobbyMessage = (await replyIn(lobby.id, h.bob, 'Hi Pip', 'Hello from the lobby.')).discord;
  bobDm = h.discord.addDmChannel(h.bob);
  expect(String((await run(h.bob, bobDm.id, 'chat', 'start', { character: 'Pip' })).content)).toContain('**Pip** is here');
  dmMessage = (await replyIn(bobDm.id, h.bob, 'Hi Pip, privately', 'Hello in private.')).discord;
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('ids in buttons are bound to where they are pressed', () => {
  for (const where of ['another server', 'a DM'] as const) {
    it(`a reply of one server does nothing when its buttons are forged in ${where}`, async () => {
      const channel = where === 'a DM' ? bobDm : lobby;
      const onMessage = where === 'a DM' ? dmMessage : lobbyMessage;
      const chatsBefore = chats();
      const posted = () => h.discord.messages(channel.id).filter((m) => !m.fake.ephemeral).length;
      const postedBefore = posted();
      const requestsBefore = h.discord.requests.length;
      for (const customId of [
        `chat:regenerate:${nyxReply.id}`,
        `chat:continue:${nyxReply.id}`,
        `chat:swipe:${nyxReply.id}:1`,
        `chat:swipe:${nyxReply.id}:-1`,
      ]) {
        const press = h.discord.forgedComponent({ customId, userId: h.bob, channelId: channel.id, messageId: onMessage.id });
        const refusal = await refusalOf(press);
        expect(refusal.content, customId).toBe('That button does not belong to a reply in this channel, so it does nothing here.');
        expect(refusal.ephemeral, customId).toBe(true);
      }
      const sources = await refusalOf(
        h.discord.forgedComponent({
          customId: `memory:sources:${nyxReply.id}`,
          userId: h.bob,
          channelId: channel.id,
          messageId: onMessage.id,
        }),
      );
      expect(sources.content).toBe('That button does not belong to a reply in this channel, so it does nothing here.');
      // Nothing was generated, posted or changed: no prompt, no message here, no new version of Nyx's reply, her message untouched.
      expect(chats()).toBe(chatsBefore);
      expect(posted()).toBe(postedBefore);
      expect(await em().count(StoryBranch, { message: nyxReply.id })).toBe(1);
      expect(h.discord.message(nyxReply.discord.id)!.content).toBe('Under the Velvet Room, darling.');
      expect(h.discord.message(nyxReply.discord.id)!.fake.edits.length).toBe(nyxReply.discord.fake.edits.length);
      const sent = JSON.stringify(h.discord.requests.slice(requestsBefore).map((r) => r.body ?? ''));
      expect(sent).not.toContain('Velvet Room');
      expect(sent).not.toContain('4417');
    }, 60_000);
  }

  it('a garbage id gets the same plain refusal, never an internal error', async () => {
    for (const id of ['', 'x', "1' or '1'='1", '00000000-0000-0000-0000-000000000000', 'a'.repeat(90)]) {
      const refusal = await refusalOf(
        h.discord.forgedComponent({
          customId: `chat:regenerate:${id}`.slice(0, 100),
          userId: h.bob,
          channelId: lobby.id,
          messageId: lobbyMessage.id,
        }),
      );
      expect(refusal.content).toBe('That button does not belong to a reply in this channel, so it does nothing here.');
    }
  });

  it('its Sources still show, pressed where the reply is', async () => {
    const press = h.discord.pressButton(nyxReply.discord.id, `memory:sources:${nyxReply.id}`, h.bob);
    const shown = await press.waitForReply(15_000);
    expect(String(shown.embeds[0]!.description)).toContain(SECRET_LORE);
  });

  it('checks an NSFW reply against its own character, not whoever is bound to the channel now', async () => {
    h.discord.setChannelNsfw(afterDark.id, false);
    await expect.poll(() => (h.client.channels.cache.get(afterDark.id) as { nsfw?: boolean } | undefined)?.nsfw).toBe(false);
    expect(String((await run(h.alice, afterDark.id, 'chat', 'start', { character: 'Sunny', answers: 'all' })).content)).toContain(
      '**Sunny** is here',
    );
    const chatsBefore = chats();
    const press = h.discord.pressButton(nyxReply.discord.id, `chat:regenerate:${nyxReply.id}`, h.alice);
    expect((await press.waitForFollowUp(undefined, 15_000)).content).toContain(
      'Nyx is marked NSFW and only runs in age-restricted channels',
    );
    expect(chats()).toBe(chatsBefore);
    expect(await em().count(StoryBranch, { message: nyxReply.id })).toBe(1);
    expect(h.discord.message(nyxReply.discord.id)!.content).toBe('Under the Velvet Room, darling.');
  });
});
