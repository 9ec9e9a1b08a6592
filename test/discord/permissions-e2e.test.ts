import { Routes, type Client } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { resolveActor } from '../../src/core/identity.js';
import { Character, Guild, LlmProviderInstance, Message } from '../../src/db/entities/index.js';
import { startBot } from '../../src/discord/bot.js';
import { loadCommands } from '../../src/discord/load-commands.js';
import type { FakeDiscord, StoredChannel, StoredGuild } from '../discord-fake/index.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';
import { waitFor } from '../support/wait-for.js';

let harness: BotHarness;
let discord: FakeDiscord;
let guild: StoredGuild;
let roleplay: StoredChannel;
let ooc: StoredChannel;
let afterDark: StoredChannel;
/** The thread of the NSFW scene started in the age-restricted channel. */
let lateScene: string;
let owner: string;
let alice: string;
let bob: string;
const roles: Record<'creators' | 'scenes' | 'librarians' | 'providers', string> = {
  creators: '',
  scenes: '',
  librarians: '',
  providers: '',
};
const members: Record<keyof typeof roles, string> = { creators: '', scenes: '', librarians: '', providers: '' };
const ids: Record<string, string> = {};

const em = () => harness.deps.database.orm.em.fork();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Options = Record<string, string | number | boolean>;
function command(userId: string, channelId: string, name: string, subcommand: string, options: Options = {}, group?: string) {
  return discord.slashCommand({ name, group, subcommand, options, userId, channelId });
}
/** The ephemeral text a command answers with (a reply, or the edit of a deferral). */
async function says(userId: string, channelId: string, name: string, subcommand: string, options: Options = {}, group?: string) {
  const reply = await command(userId, channelId, name, subcommand, options, group).waitForReply(10_000);
  return reply.content;
}
const settings = (subcommand: string, options: Options = {}, group?: string, userId = owner, channelId = roleplay.id) =>
  says(userId, channelId, 'settings', subcommand, options, group);

/** Posts a message and checks, after a while, that the bot neither stored nor answered it. */
async function ignored(channelId: string, userId: string, text: string) {
  const before = discord.messages(channelId).length;
  const said = discord.userSays(channelId, userId, text);
  await sleep(800);
  expect(await em().count(Message, { discordMessageId: said.id })).toBe(0);
  expect(discord.messages(channelId).length).toBe(before + 1);
}

beforeAll(async () => {
  harness = await startBotHarness();
  ({ discord, guild, alice, bob } = harness);
  roleplay = harness.channel;
  owner = guild.ownerId;
  ooc = discord.addTextChannel(guild.id, { name: 'ooc' });
  afterDark = discord.addTextChannel(guild.id, { name: 'after-dark', nsfw: true });
  for (const key of Object.keys(roles) as (keyof typeof roles)[]) {
    roles[key] = discord.addRole(guild.id, { name: key, permissions: 0n }).id;
    members[key] = discord.addUser({ username: `${key}-member` }).id;
    discord.addMember(guild.id, members[key], { roles: [roles[key]] });
  }
  // Registered like `npm run deploy-commands`, so the fake checks every option against the definitions.
  const commands = await loadCommands();
  await harness.client.rest.put(Routes.applicationCommands(discord.applicationId), {
    body: [...commands.values()].map((c) => c.data.toJSON()),
  });
  const actor = await resolveActor(em(), { user: { id: alice, username: 'alice' }, guild: { id: guild.id, name: 'Tavern' } });
  const make = async (name: string, visibility: 'private' | 'guild' | 'public', isNsfw = false) => {
    ids[name] = (
      await createCharacter(em(), actor, {
        name,
        personalityPrompt: `${name} is a character.`,
        greeting: `${name} waves.`,
        visibility,
        isNsfw,
      })
    ).id;
  };
  await make('Aria', 'guild');
  await make('Borin', 'guild');
  await make('Nyx', 'guild', true);
  await make('Pip', 'public');
  await make('Secret', 'private');
});

afterAll(async () => {
  await harness?.close();
});

describe('/settings: only server admins', () => {
  it('is registered for Manage Server, in servers only', async () => {
    const registered = discord.commands().find((c) => c.name === 'settings')!;
    expect(registered.default_member_permissions).toBe(String(1n << 5n));
    expect(registered.contexts).toEqual([0]);
  });

  it('refuses a non-admin even when Discord lets the interaction through', async () => {
    expect(await settings('show', {}, undefined, bob)).toContain('Only server admins');
    const change = command(bob, roleplay.id, 'settings', 'allow', { action: 'createCharacters', role: roles.creators }, 'roles');
    expect((await change.waitForReply()).content).toContain('Only server admins');
    expect(change.ephemeral).toBe(true);
    expect(await settings('ban-character', { character: 'Aria' }, undefined, bob)).toContain('Only server admins');
    const stored = await em().findOneOrFail(Guild, { discordId: guild.id });
    expect(stored.settings.roles).toBeUndefined();
  });

  it('shows the defaults to an admin', async () => {
    const shown = await command(owner, roleplay.id, 'settings', 'show').waitForReply();
    const text = JSON.stringify(shown.embeds);
    expect(text).toContain('Create characters**: everyone');
    expect(text).toContain('Add server AI providers**: server admins only');
    expect(text).toContain('in every channel');
  });
});

describe('role gates', () => {
  it('character creation: the allowed role passes, another role is refused with the roles named, admins always pass', async () => {
    expect(await settings('allow', { action: 'createCharacters', role: roles.creators }, 'roles')).toContain(`<@&${roles.creators}>`);
    const refused = command(members.scenes, roleplay.id, 'character', 'create');
    expect((await refused.waitForReply()).content).toBe(
      `In this server only members with <@&${roles.creators}> (and server admins) may create characters.`,
    );
    expect(refused.ephemeral).toBe(true);
    expect((await command(members.creators, roleplay.id, 'character', 'create').waitForModal()).custom_id).toMatch(/^character:create/);
    expect((await command(owner, roleplay.id, 'character', 'create').waitForModal()).custom_id).toMatch(/^character:create/);
    // A form opened before the rule changed is checked again when it is sent.
    const opened = command(members.creators, roleplay.id, 'character', 'create');
    await opened.waitForModal();
    await settings('remove', { action: 'createCharacters', role: roles.creators }, 'roles');
    const sent = discord.submitModal({
      from: opened,
      values: { name: 'Late', personality: 'Too late.', greeting: '', examples: '', avatar: '' },
    });
    expect((await sent.waitForReply()).content).toContain('only server admins may create characters');
    expect(await em().count(Character, { name: 'Late' })).toBe(0);
    // In DMs the server's rules do not apply.
    const dm = discord.addDmChannel(members.scenes);
    expect((await command(members.scenes, dm.id, 'character', 'create').waitForModal()).custom_id).toMatch(/^character:create/);
    await settings('everyone', { action: 'createCharacters' }, 'roles');
  });

  it('scenes: only the allowed role (and admins) may start one', async () => {
    await settings('allow', { action: 'startScenes', role: roles.scenes }, 'roles');
    expect(await says(bob, roleplay.id, 'scene', 'start', { characters: 'Aria, Borin' })).toContain(
      `only members with <@&${roles.scenes}>`,
    );
    expect(await says(members.scenes, roleplay.id, 'scene', 'start', { characters: 'Aria, Borin', title: 'Allowed' })).toContain(
      'has started',
    );
    expect(await says(owner, roleplay.id, 'scene', 'start', { characters: 'Aria, Borin', title: 'By the admin' })).toContain('has started');
    await settings('reset', { action: 'startScenes' }, 'roles');
  });

  it('knowledge and lore: only the allowed role may change them, even on their own characters', async () => {
    await settings('allow', { action: 'uploadKnowledge', role: roles.librarians }, 'roles');
    for (const user of [bob, members.librarians]) {
      const actor = await resolveActor(em(), { user: { id: user, username: user }, guild: { id: guild.id } });
      ids[user] = (
        await createCharacter(em(), actor, { name: `Own${user.slice(-4)}`, personalityPrompt: 'Mine.', visibility: 'private' })
      ).id;
    }
    const lore = { keys: 'harbour', content: 'The harbour is closed at night.' };
    expect(await says(bob, roleplay.id, 'lore', 'add', { character: ids[bob]!, ...lore })).toContain(
      `only members with <@&${roles.librarians}>`,
    );
    expect(await says(bob, roleplay.id, 'knowledge', 'add-url', { character: ids[bob]!, url: 'https://example.org/a' })).toContain(
      'may change knowledge and lore',
    );
    // Reading stays open.
    expect(await says(bob, roleplay.id, 'lore', 'list', { character: ids[bob]! })).not.toContain('may change');
    expect(await says(members.librarians, roleplay.id, 'lore', 'add', { character: ids[members.librarians]!, ...lore })).toContain('Added');
    await settings('everyone', { action: 'uploadKnowledge' }, 'roles');
    expect(await says(bob, roleplay.id, 'lore', 'add', { character: ids[bob]!, ...lore })).toContain('Added');
  });

  it('server providers: admins only by default; a granted role may add one, others may not', async () => {
    expect(await says(bob, roleplay.id, 'provider', 'add', { type: 'ollama', scope: 'guild' })).toBe(
      'In this server only server admins may add server AI providers.',
    );
    await command(owner, roleplay.id, 'provider', 'add', { type: 'ollama', scope: 'guild' }).waitForModal();
    await settings('allow', { action: 'addProviders', role: roles.providers }, 'roles');
    expect(await says(bob, roleplay.id, 'provider', 'add', { type: 'ollama', scope: 'guild' })).toContain(`<@&${roles.providers}>`);
    const form = command(members.providers, roleplay.id, 'provider', 'add', { type: 'ollama', scope: 'guild' });
    await form.waitForModal();
    const added = discord.submitModal({
      from: form,
      values: { name: 'Team Ollama', endpoint: 'http://127.0.0.1:11434', key: '', model: '' },
    });
    expect((await added.waitForReply()).content).toContain('Added **Team Ollama** (this server');
    expect(await em().count(LlmProviderInstance, { displayName: 'Team Ollama', scope: 'guild' })).toBe(1);
    // Their own keys stay open to everyone.
    await command(bob, roleplay.id, 'provider', 'add', { type: 'ollama' }).waitForModal();
    // Nothing listens there: the server goes back to the environment's provider for the tests after this.
    await em().nativeDelete(LlmProviderInstance, { displayName: 'Team Ollama' });
  });
});

describe('where the bot answers', () => {
  let scene: StoredChannel;

  it('ignores messages and refuses commands in a denied channel and its threads; other channels carry on', async () => {
    expect(await says(alice, roleplay.id, 'chat', 'start', { character: 'Aria', answers: 'all' })).toContain('**Aria** is here');
    await discord.waitForMessage(roleplay.id, (m) => m.content === 'Aria waves.');
    const started = await says(alice, roleplay.id, 'scene', 'start', { characters: 'Aria, Borin', title: 'Closed later' });
    scene = discord.store.channel(/<#(\d+)>/.exec(started)![1]!);
    await settings('mode', { mode: 'deny' }, 'channels');
    expect(await settings('add', { channel: roleplay.id }, 'channels')).toContain(`everywhere except <#${roleplay.id}>`);
    await ignored(roleplay.id, alice, 'Aria, are you there?');
    await ignored(scene.id, alice, 'Aria, hello?');
    const refused = command(alice, roleplay.id, 'chat', 'status');
    expect((await refused.waitForReply()).content).toContain('I do not answer in this channel');
    expect(refused.ephemeral).toBe(true);
    expect(await says(alice, scene.id, 'scene', 'next')).toContain('I do not answer in this channel');
    // /settings still works there, so an admin can undo it.
    expect(JSON.stringify((await command(owner, roleplay.id, 'settings', 'show').waitForReply()).embeds)).toContain(
      `everywhere except <#${roleplay.id}>`,
    );
    expect(await says(alice, ooc.id, 'chat', 'start', { character: 'Borin', answers: 'all' })).toContain('**Borin** is here');
  });

  it('in allow mode answers only in listed channels (threads included)', async () => {
    await settings('remove', { channel: roleplay.id }, 'channels');
    await settings('mode', { mode: 'allow' }, 'channels');
    expect(await settings('add', { channel: roleplay.id }, 'channels')).toContain(`only in <#${roleplay.id}>`);
    await ignored(ooc.id, alice, 'Borin?');
    expect(await says(alice, ooc.id, 'chat', 'status')).toContain('I do not answer in this channel');
    const said = discord.userSays(scene.id, alice, 'Aria, now?');
    await expect.poll(() => em().count(Message, { discordMessageId: said.id }), { timeout: 10_000 }).toBe(1);
    await settings('mode', { mode: 'all' }, 'channels');
    await harness.deps.scenes.idle();
  });
});

describe('NSFW characters and scenes', () => {
  it('start only in age-restricted channels', async () => {
    expect(await says(alice, ooc.id, 'chat', 'start', { character: 'Nyx' })).toBe(
      'Nyx is marked NSFW and only runs in age-restricted channels. A server admin can mark a channel age-restricted in its settings.',
    );
    expect(await says(alice, afterDark.id, 'chat', 'start', { character: 'Nyx', answers: 'all' })).toContain('**Nyx** is here');
    expect(await says(alice, ooc.id, 'scene', 'start', { characters: 'Aria, Nyx' })).toContain('Nyx is marked NSFW');
    expect(await says(alice, ooc.id, 'scene', 'start', { characters: 'Aria, Borin', nsfw: true })).toContain('This scene is marked NSFW');
    const started = await says(alice, afterDark.id, 'scene', 'start', { characters: 'Aria, Nyx', nsfw: true, title: 'Late' });
    expect(started).toContain('has started');
    lateScene = /<#(\d+)>/.exec(started)![1]!;
    // A scene in an ordinary channel's thread cannot take an NSFW character.
    const sfw = await says(alice, ooc.id, 'scene', 'start', { characters: 'Aria, Borin', title: 'Daylight' });
    const thread = /<#(\d+)>/.exec(sfw)![1]!;
    expect(await says(alice, thread, 'scene', 'add', { character: 'Nyx' })).toContain('Nyx is marked NSFW');
    await harness.deps.scenes.idle();
  });

  it('a channel that loses its age restriction: the character says so once instead of answering', async () => {
    discord.setChannelNsfw(afterDark.id, false);
    await expect.poll(() => (harness.client.channels.cache.get(afterDark.id) as { nsfw?: boolean } | undefined)?.nsfw).toBe(false);
    const chatsBefore = harness.llm.requests.length;
    discord.userSays(afterDark.id, alice, 'Nyx, hello?');
    const notice = await discord.waitForMessage(afterDark.id, (m) => m.content.includes('It does not answer here.'));
    expect(notice.content).toContain('Nyx is marked NSFW and only runs in age-restricted channels');
    await ignored(afterDark.id, alice, 'Nyx??');
    expect(harness.llm.requests.length).toBe(chatsBefore);
    discord.setChannelNsfw(afterDark.id, true);
  });

  it('the buttons under older replies and /scene next refuse too, once the channel is no longer age-restricted', async () => {
    await expect.poll(() => (harness.client.channels.cache.get(afterDark.id) as { nsfw?: boolean } | undefined)?.nsfw).toBe(true);
    const said = discord.userSays(afterDark.id, alice, 'Nyx, tell me a secret.');
    const reply = await discord.waitForMessage(
      afterDark.id,
      (m) => BigInt(m.id) > BigInt(said.id) && (m.components?.length ?? 0) > 0,
      15_000,
    );
    const stored = await waitFor(
      () =>
        em()
          .findOne(Message, { discordMessageId: reply.id, role: 'assistant' })
          .then((m) => m ?? undefined),
      'the stored reply',
    );
    discord.setChannelNsfw(afterDark.id, false);
    await expect.poll(() => (harness.client.channels.cache.get(afterDark.id) as { nsfw?: boolean } | undefined)?.nsfw).toBe(false);
    const chatsBefore = harness.llm.requests.length;
    const press = discord.pressButton(reply.id, `chat:regenerate:${stored.id}`, alice);
    expect((await press.waitForFollowUp()).content).toContain('Nyx is marked NSFW and only runs in age-restricted channels');
    expect(await says(alice, lateScene, 'scene', 'next', { character: 'Nyx' })).toContain('marked NSFW');
    await sleep(300);
    expect(harness.llm.requests.length).toBe(chatsBefore);
    expect(discord.message(reply.id)!.content).toBe(reply.content);
    discord.setChannelNsfw(afterDark.id, true);
    await expect.poll(() => (harness.client.channels.cache.get(afterDark.id) as { nsfw?: boolean } | undefined)?.nsfw).toBe(true);
  });

  it('never in DMs unless the operator allows it', async () => {
    const dm = discord.addDmChannel(alice);
    expect(await says(alice, dm.id, 'chat', 'start', { character: 'Pip' })).toContain('**Pip** is here');
    expect(await says(alice, dm.id, 'chat', 'start', { character: 'Nyx' })).toContain('does not run NSFW content in direct messages');
  });
});

describe('banned characters', () => {
  it('are refused everywhere in that server, and fine in another', async () => {
    expect(await says(alice, ooc.id, 'chat', 'start', { character: 'Pip', answers: 'all' })).toContain('**Pip** is here');
    await discord.waitForMessage(ooc.id, (m) => m.content === 'Pip waves.');
    expect(await settings('ban-character', { character: ids.Pip! })).toContain('**Pip** is banned');
    expect(await says(alice, roleplay.id, 'chat', 'start', { character: 'Pip' })).toBe('Pip is banned from this server by its admins.');
    expect(await says(alice, afterDark.id, 'scene', 'start', { characters: 'Pip, Aria' })).toContain('Pip is banned');
    const notice = discord.userSays(ooc.id, alice, 'Pip?');
    await discord.waitForMessage(ooc.id, (m) => m.content.startsWith('Pip is banned from this server'));
    expect(await em().count(Message, { discordMessageId: notice.id })).toBe(0);
    expect(JSON.stringify((await command(owner, roleplay.id, 'settings', 'show').waitForReply()).embeds)).toContain('Pip');
    // Someone's private character bound in this server can be banned by name, though the admin cannot use it.
    expect(await says(alice, ooc.id, 'chat', 'start', { character: 'Secret' })).toContain('**Secret** is here');
    expect(await settings('ban-character', { character: 'Secret' })).toContain('**Secret** is banned');
    // Another server is not affected.
    const other = discord.addGuild({ name: 'Elsewhere', ownerId: bob });
    const lobby = discord.addTextChannel(other.id, { name: 'lobby' });
    discord.addMember(other.id, alice);
    await expect.poll(() => harness.client.channels.cache.has(lobby.id)).toBe(true);
    expect(await says(alice, lobby.id, 'chat', 'start', { character: 'Pip' })).toContain('**Pip** is here');
    expect(await settings('unban-character', { character: ids.Pip! })).toContain('no longer banned');
    expect(await says(alice, roleplay.id, 'chat', 'start', { character: 'Pip' })).toContain('**Pip** is here');
  });

  it('keeps other keys of the server’s settings when it writes its own', async () => {
    await em().nativeUpdate(
      Guild,
      { discordId: guild.id },
      { settings: { ...(await em().findOneOrFail(Guild, { discordId: guild.id })).settings, allowUserKeys: false } },
    );
    await settings('ban-character', { character: 'Borin' });
    const stored = await em().findOneOrFail(Guild, { discordId: guild.id });
    expect(stored.settings).toMatchObject({ allowUserKeys: false, bannedCharacters: expect.arrayContaining([ids.Borin]) });
  });
});

describe('private characters, knowledge and lore across servers', () => {
  let elsewhere: StoredChannel;
  beforeAll(async () => {
    const other = discord.addGuild({ name: 'Far away', ownerId: bob });
    elsewhere = discord.addTextChannel(other.id, { name: 'hall' });
    while (!harness.client.channels.cache.has(elsewhere.id)) await sleep(20);
  });

  it('another user cannot read, use, edit or delete them, by name or by id, here or in another server (its admin included)', async () => {
    for (const [user, channel] of [
      [bob, roleplay.id],
      [bob, elsewhere.id],
      [owner, roleplay.id],
    ] as const) {
      for (const key of ['Secret', ids.Secret!]) {
        const missing = `No character called “${key}” that you can use here. Try /character list.`;
        expect(await says(user, channel, 'character', 'show', { character: key })).toBe(missing);
        expect(await says(user, channel, 'character', 'edit', { character: key, temperature: 1 })).toBe(missing);
        expect(await says(user, channel, 'character', 'delete', { character: key })).toBe(missing);
        expect(await says(user, channel, 'character', 'export', { character: key })).toBe(missing);
        expect(await says(user, channel, 'chat', 'start', { character: key })).toBe(missing);
        expect(await says(user, channel, 'knowledge', 'list', { character: key })).toBe(missing);
        expect(await says(user, channel, 'knowledge', 'search', { character: key, query: 'anything' })).toBe(missing);
        expect(await says(user, channel, 'lore', 'list', { character: key })).toBe(missing);
        expect(await says(user, channel, 'lore', 'add', { character: key, keys: 'x', content: 'y' })).toBe(missing);
      }
      const offered = await discord
        .autocomplete({
          name: 'chat',
          subcommand: 'start',
          options: { character: 'Sec' },
          focused: 'character',
          userId: user,
          channelId: channel,
        })
        .waitForChoices();
      expect(offered).toEqual([]);
    }
    expect(await em().count(Character, { id: ids.Secret })).toBe(1);
  });

  it('a server character stays in its server: another server’s members and admin cannot use or change it', async () => {
    expect(await says(bob, elsewhere.id, 'chat', 'start', { character: 'Aria' })).toContain('No character called “Aria”');
    expect(await says(bob, elsewhere.id, 'lore', 'remove', { character: ids.Aria!, entry: 'x' })).toContain('No character called');
    expect(await says(bob, elsewhere.id, 'knowledge', 'remove', { character: ids.Aria!, item: 'x' })).toContain('No character called');
  });
});

describe('direct messages, as the operator sets them', () => {
  let client: Client | undefined;
  afterAll(async () => {
    await client?.destroy();
  });

  async function restartWith(dms: { allow: boolean; allowNsfw: boolean }) {
    await (client ?? harness.client).destroy();
    const before = discord.gateway.identifies;
    const deps = { ...harness.deps, config: { ...harness.deps.config, dms } };
    client = await startBot({ token: discord.token, apiUrl: discord.restUrl, commands: await loadCommands(), deps });
    await discord.waitFor(() => discord.gateway.identifies > before);
    await new Promise<void>((resolve) => (client!.isReady() ? resolve() : client!.once('clientReady', () => resolve())));
  }

  it('ALLOW_NSFW_DMS=true lets NSFW characters talk in DMs', async () => {
    await restartWith({ allow: true, allowNsfw: true });
    const dm = discord.addDmChannel(alice);
    expect(await says(alice, dm.id, 'chat', 'start', { character: 'Nyx' })).toContain('**Nyx** is here');
  });

  it('ALLOW_DMS=false: messages get one plain notice, commands a refusal; /help still works', async () => {
    await restartWith({ allow: false, allowNsfw: false });
    const dm = discord.addDmChannel(bob);
    const said = discord.userSays(dm.id, bob, 'hello?');
    await discord.waitForMessage(dm.id, (m) => m.content.startsWith('I do not chat in direct messages'));
    expect(await em().count(Message, { discordMessageId: said.id })).toBe(0);
    await ignored(dm.id, bob, 'hello again?');
    expect(await says(bob, dm.id, 'chat', 'start', { character: 'Pip' })).toContain('I do not chat in direct messages');
    expect(await says(bob, dm.id, 'character', 'list')).toContain('I do not chat in direct messages');
    expect((await command(bob, dm.id, 'help', '' as never).waitForReply()).embeds?.length).toBe(1);
    // Servers are not affected.
    expect(await says(bob, ooc.id, 'chat', 'status')).not.toContain('direct messages');
  });
});
