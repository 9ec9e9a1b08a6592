import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { DiscordAPIError, REST } from '@discordjs/rest';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  ChannelType,
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  ModalBuilder,
  Partials,
  PermissionFlagsBits,
  Routes,
  SlashCommandBuilder,
  TextInputBuilder,
  TextInputStyle,
  type Interaction,
  type Message,
  type TextChannel,
} from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BOT_PERMISSIONS, startFakeDiscord, type FakeDiscord, type StoredChannel, type StoredGuild } from './index.js';

let discord: FakeDiscord;
let client: Client;
let guild: StoredGuild;
let channel: StoredChannel;
let aliceId: string;

function newClient(fake: FakeDiscord): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent, GatewayIntentBits.DirectMessages],
    partials: [Partials.Channel],
    rest: { api: fake.restUrl },
  });
}

async function login(target: Client, fake: FakeDiscord): Promise<void> {
  await Promise.all([once(target, Events.ClientReady), target.login(fake.token)]);
}

/** Runs `handler` on the next interaction the client receives; resolves with its result. */
function nextInteraction<T>(handler: (interaction: Interaction) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    client.once(Events.InteractionCreate, (interaction) => void handler(interaction).then(resolve, reject));
  });
}

function textChannel(): TextChannel {
  return client.channels.cache.get(channel.id) as TextChannel;
}

beforeAll(async () => {
  // Relaxed buckets keep this file fast; 'rate limits' below checks Discord-like buckets on their own.
  discord = await startFakeDiscord({ botUser: { username: 'DreamChat' }, rateLimits: 'relaxed' });
  const owner = discord.addUser({ username: 'owner' });
  guild = discord.addGuild({ name: 'Tavern', ownerId: owner.id });
  channel = discord.addTextChannel(guild.id, { name: 'roleplay' });
  aliceId = discord.addUser({ username: 'alice', globalName: 'Alice' }).id;
  client = newClient(discord);
  await login(client, discord);
});

afterAll(async () => {
  await client?.destroy();
  await discord?.close();
});

describe('gateway', () => {
  it('logs the real client in with guilds, channels and the bot member cached', async () => {
    await discord.waitForIdentify();
    expect(client.user?.id).toBe(discord.botUser.id);
    expect(client.application?.id).toBe(discord.applicationId);
    const cached = client.guilds.cache.get(guild.id);
    expect(cached?.name).toBe('Tavern');
    expect(cached?.channels.cache.get(channel.id)?.name).toBe('roleplay');
    const me = cached!.members.me!;
    expect(textChannel().permissionsFor(me).has(PermissionFlagsBits.ManageWebhooks)).toBe(true);
    expect(discord.requestsTo({ route: '/gateway/bot' })[0]?.headers.authorization).toBe(`Bot ${discord.token}`);
  });

  it('delivers MESSAGE_CREATE to messageCreate, with mentions and replies', async () => {
    const received = once(client, Events.MessageCreate) as Promise<[Message]>;
    const first = discord.userSays(channel.id, aliceId, `hello <@${discord.botUser.id}>`);
    const [message] = await received;
    expect(message.content).toBe(`hello <@${discord.botUser.id}>`);
    expect(message.author.username).toBe('alice');
    expect(message.mentions.users.has(discord.botUser.id)).toBe(true);
    expect(message.member?.id).toBe(aliceId);

    const reply = once(client, Events.MessageCreate) as Promise<[Message]>;
    discord.userSays(channel.id, aliceId, 'and another', { reference: first.id });
    const [answer] = await reply;
    expect(answer.reference?.messageId).toBe(first.id);
  });

  it('delivers DMs to a client with the Channel partial', async () => {
    const dm = discord.addDmChannel(aliceId);
    const received = once(client, Events.MessageCreate) as Promise<[Message]>;
    discord.userSays(dm.id, aliceId, 'psst');
    const [message] = await received;
    expect(message.channel.type).toBe(ChannelType.DM);
    expect(message.content).toBe('psst');
  });

  it('sends GUILD_CREATE for a guild added after login', async () => {
    const joined = once(client, Events.GuildCreate);
    const added = discord.addGuild({ name: 'Second server' });
    await joined;
    expect(client.guilds.cache.get(added.id)?.name).toBe('Second server');
  });

  it('rejects a login with the wrong token', async () => {
    const stranger = newClient(discord);
    await expect(stranger.login('not-the-token')).rejects.toThrow(/token/i);
    await stranger.destroy();
  });

  it('replays missed events when the client resumes after a dropped connection', async () => {
    const resumesBefore = discord.gateway.resumes;
    discord.dropConnections();
    const received = once(client, Events.MessageCreate) as Promise<[Message]>;
    discord.userSays(channel.id, aliceId, 'said while you were away');
    const [message] = await received;
    expect(message.content).toBe('said while you were away');
    expect(discord.gateway.resumes).toBe(resumesBefore + 1);
    expect(discord.gateway.identifies).toBe(1);
  });
});

describe('messages', () => {
  it('stores bot messages, echoes them as MESSAGE_CREATE and edits as MESSAGE_UPDATE', async () => {
    const echoed = new Promise<Message>((resolve) => {
      const listener = (message: Message) => {
        if (message.author.id !== discord.botUser.id) return;
        client.off(Events.MessageCreate, listener);
        resolve(message);
      };
      client.on(Events.MessageCreate, listener);
    });
    const sent = await textChannel().send('first draft');
    expect((await echoed).id).toBe(sent.id);

    const updated = once(client, Events.MessageUpdate) as Promise<[Message, Message]>;
    await sent.edit('final');
    const [, after] = await updated;
    expect(after.content).toBe('final');
    const stored = discord.message(sent.id)!;
    expect(stored.content).toBe('final');
    expect(stored.fake.edits.map((edit) => edit.content)).toEqual(['final']);

    const deleted = once(client, Events.MessageDelete);
    await sent.delete();
    await deleted;
    expect(discord.messages(channel.id).some((message) => message.id === sent.id)).toBe(false);
  });

  it('parses multipart uploads and serves the attachment', async () => {
    const sent = await textChannel().send({ content: 'notes', files: [{ attachment: Buffer.from('lore'), name: 'lore.txt' }] });
    const request = discord.requestsTo({ method: 'POST', route: '/channels/:channelId/messages' }).at(-1)!;
    expect(request.body.content).toBe('notes');
    expect(request.files[0]).toMatchObject({ filename: 'lore.txt', field: 'files[0]' });
    const attachment = sent.attachments.first()!;
    expect(attachment.name).toBe('lore.txt');
    expect(await (await fetch(attachment.url)).text()).toBe('lore');
  });

  it("answers Discord's 400s for content over 2000 and embed descriptions over 4096", async () => {
    await expect(textChannel().send('x'.repeat(2001))).rejects.toMatchObject({ code: 50035, status: 400 });
    // Not `instanceof DiscordAPIError`: discord.js (CommonJS) and an ESM import of @discordjs/rest load two copies of the class.
    const error = (await textChannel()
      .send({ embeds: [{ description: 'y'.repeat(4097) }] })
      .catch((caught: unknown) => caught)) as DiscordAPIError;
    expect(error.code).toBe(50035);
    expect(error.rawError).toMatchObject({ errors: { embeds: { '0': { description: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } } } } });
  });

  it('serves message history, members and threads started from a message', async () => {
    const said = discord.userSays(channel.id, aliceId, 'start a thread here');
    const fetched = await textChannel().messages.fetch({ limit: 5 });
    expect(fetched.first()?.id).toBe(said.id);
    const member = await client.guilds.cache.get(guild.id)!.members.fetch({ user: aliceId, force: true });
    expect(member.user.username).toBe('alice');
    const message = await textChannel().messages.fetch(said.id);
    const thread = await message.startThread({ name: 'Side plot', reason: 'scene' });
    expect(thread.id).toBe(said.id);
    expect(discord.message(said.id)?.thread?.id).toBe(said.id);
    expect(discord.requestsTo({ route: '/channels/:channelId/messages/:messageId/threads' }).at(-1)?.headers.auditLogReason).toBe('scene');
  });

  it('creates threads and archives them, dispatching THREAD_CREATE / THREAD_UPDATE', async () => {
    const created = once(client, Events.ThreadCreate);
    const thread = await textChannel().threads.create({ name: 'Scene', type: ChannelType.PublicThread });
    await created;
    expect(discord.store.channel(thread.id).parentId).toBe(channel.id);
    await thread.setArchived(true);
    expect(discord.store.channel(thread.id).thread?.archived).toBe(true);
    expect(discord.dispatches.some((dispatch) => dispatch.t === 'THREAD_UPDATE' && dispatch.d.id === thread.id)).toBe(true);
  });
});

describe('interactions', () => {
  beforeAll(async () => {
    const chat = new SlashCommandBuilder()
      .setName('chat')
      .setDescription('Chat with a character')
      .addSubcommand((sub) =>
        sub
          .setName('start')
          .setDescription('Bind a character here')
          .addStringOption((option) => option.setName('character').setDescription('Who').setRequired(true).setAutocomplete(true))
          .addIntegerOption((option) => option.setName('temperature').setDescription('How wild')),
      );
    await client.application!.commands.set([chat.toJSON()]);
    expect(discord.commands().map((command) => command.name)).toEqual(['chat']);
  });

  it('delivers a slash command with subcommand and options; reply() lands as callback type 4', async () => {
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
      const seen = {
        sub: interaction.options.getSubcommand(),
        character: interaction.options.getString('character'),
        temperature: interaction.options.getInteger('temperature'),
        admin: interaction.memberPermissions?.has(PermissionFlagsBits.Administrator),
      };
      await interaction.reply({ content: 'Aria is here.', flags: MessageFlags.Ephemeral });
      return seen;
    });
    const interaction = discord.slashCommand({ name: 'chat', subcommand: 'start', options: { character: 'Aria', temperature: 1 }, userId: aliceId, channelId: channel.id });
    expect(await handled).toEqual({ sub: 'start', character: 'Aria', temperature: 1, admin: false });
    const reply = await interaction.waitForReply();
    expect(reply.content).toBe('Aria is here.');
    expect(interaction.callback?.type).toBe(4);
    expect(interaction.ephemeral).toBe(true);
    expect(discord.messages(channel.id).some((message) => message.id === reply.id)).toBe(false);
  });

  it('records deferReply, editReply and followUp', async () => {
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply();
      await interaction.editReply('thought about it');
      await interaction.followUp('one more thing');
    });
    const interaction = discord.slashCommand({ name: 'chat', subcommand: 'start', options: { character: 'Aria' }, userId: aliceId, channelId: channel.id });
    await handled;
    expect(interaction.responses.map((response) => response.kind)).toEqual(['callback', 'edit-original', 'followup']);
    expect(interaction.callback?.type).toBe(5);
    expect(interaction.original?.content).toBe('thought about it');
    expect(interaction.followUps.map((message) => message.content)).toEqual(['one more thing']);
    expect(discord.messages(channel.id).at(-1)?.content).toBe('one more thing');
  });

  it('answers autocomplete with respond()', async () => {
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isAutocomplete()) return;
      const typed = interaction.options.getFocused();
      await interaction.respond([{ name: `Aria (${typed})`, value: 'aria' }]);
    });
    const interaction = discord.autocomplete({ name: 'chat', subcommand: 'start', focused: 'character', options: { character: 'Ar' }, userId: aliceId, channelId: channel.id });
    await handled;
    expect(await interaction.waitForChoices()).toEqual([{ name: 'Aria (Ar)', value: 'aria' }]);
  });

  it('shows a modal and delivers its submission', async () => {
    const shown = nextInteraction(async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      const modal = new ModalBuilder()
        .setCustomId('character:create')
        .setTitle('New character')
        .addComponents(
          new ActionRowBuilder<TextInputBuilder>().addComponents(
            new TextInputBuilder().setCustomId('name').setLabel('Name').setStyle(TextInputStyle.Short),
          ),
        );
      await interaction.showModal(modal);
    });
    const command = discord.slashCommand({ name: 'chat', subcommand: 'start', options: { character: 'x' }, userId: aliceId, channelId: channel.id });
    await shown;
    expect((await command.waitForModal()).custom_id).toBe('character:create');

    const submitted = nextInteraction(async (interaction) => {
      if (!interaction.isModalSubmit()) return undefined;
      const name = interaction.fields.getTextInputValue('name');
      await interaction.reply(`Created ${name}`);
      return name;
    });
    const submit = discord.submitModal({ from: command, values: { name: 'Aria' } });
    expect(await submitted).toBe('Aria');
    expect((await submit.waitForReply()).content).toBe('Created Aria');
  });

  it('resolves attachment options and answers with_response', async () => {
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isChatInputCommand()) return undefined;
      const file = interaction.options.getAttachment('file', true);
      const text = await (await fetch(file.url)).text();
      const response = await interaction.reply({ content: `read ${file.name}`, withResponse: true });
      return { text, replyId: response.resource?.message?.id };
    });
    const interaction = discord.slashCommand({
      name: 'import',
      options: { file: { name: 'card.json', data: '{"spec":"chara_card_v2"}', contentType: 'application/json' } },
      userId: aliceId,
      channelId: channel.id,
    });
    const { text, replyId } = (await handled)!;
    expect(text).toBe('{"spec":"chara_card_v2"}');
    expect(replyId).toBe((await interaction.waitForReply()).id);
  });

  it('fills the deferred reply with the first follow-up, as Discord does', async () => {
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await interaction.followUp('done');
    });
    const interaction = discord.slashCommand({ name: 'chat', subcommand: 'start', options: { character: 'Aria' }, userId: aliceId, channelId: channel.id });
    await handled;
    expect((await interaction.waitForReply()).content).toBe('done');
    expect(interaction.followUps).toEqual([]);
    expect(interaction.ephemeral).toBe(true);
  });

  it('forgets interactions that are not answered in time, and refuses a second callback', async () => {
    const fake = await startFakeDiscord({ interactionTimeoutMs: 30 });
    try {
      const target = fake.addTextChannel(fake.addGuild().id);
      const user = fake.addUser({ username: 'bob' });
      const callback = (interaction: { id: string; token: string }) =>
        fetch(`${fake.restUrl}/v10/interactions/${interaction.id}/${interaction.token}/callback`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 4, data: { content: 'hi' } }),
        });
      const answered = fake.slashCommand({ name: 'ping', userId: user.id, channelId: target.id });
      expect((await callback(answered)).status).toBe(204);
      expect(await (await callback(answered)).json()).toMatchObject({ code: 40060 });
      const late = fake.slashCommand({ name: 'ping', userId: user.id, channelId: target.id });
      await sleep(50); // let Discord's answer window pass
      expect(await (await callback(late)).json()).toMatchObject({ code: 10062, message: 'Unknown interaction' });
    } finally {
      await fake.close();
    }
  });

  it('delivers select menu choices', async () => {
    const sent = await textChannel().send({
      content: 'Pick one',
      components: [{ type: 1, components: [{ type: 3, custom_id: 'pick', options: [{ label: 'Aria', value: 'aria' }, { label: 'Bram', value: 'bram' }] }] }],
    });
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isStringSelectMenu()) return undefined;
      await interaction.deferUpdate();
      return interaction.values;
    });
    const pick = discord.selectMenu(sent.id, 'pick', ['bram'], aliceId);
    expect(await handled).toEqual(['bram']);
    expect((await pick.waitForResponse()).type).toBe(6);
  });

  it('presses a button and records update()', async () => {
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('chat:regenerate').setLabel('Regenerate').setStyle(ButtonStyle.Secondary),
    );
    const sent = await textChannel().send({ content: 'A reply', components: [row] });
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isButton()) return undefined;
      await interaction.update({ content: 'Another reply' });
      return interaction.customId;
    });
    const press = discord.pressButton(sent.id, 'chat:regenerate', aliceId);
    expect(await handled).toBe('chat:regenerate');
    expect((await press.waitForReply()).content).toBe('Another reply');
    expect(discord.message(sent.id)?.content).toBe('Another reply');
    expect(() => discord.pressButton(sent.id, 'nope', aliceId)).toThrow(/has no component "nope"/);
  });
});

describe('webhooks', () => {
  it('sends as a character with username, avatar and thread_id, and edits in the thread', async () => {
    const webhook = await textChannel().createWebhook({ name: 'DreamChat' });
    const thread = discord.addThread(channel.id, { name: 'Scene' });
    const sent = await webhook.send({ content: 'Greetings.', username: 'Aria', avatarURL: 'https://example.com/aria.png', threadId: thread.id });
    const [posted] = discord.webhookMessages(thread.id);
    expect(posted).toMatchObject({ content: 'Greetings.', webhook_id: webhook.id, author: { username: 'Aria' } });
    expect(posted?.fake.avatarUrl).toBe('https://example.com/aria.png');
    expect(discord.requestsTo({ method: 'POST', route: '/webhooks/:webhookId/:token' }).at(-1)?.query).toMatchObject({ wait: 'true', thread_id: thread.id });

    await webhook.editMessage(sent.id, { content: 'Greetings, traveller.', threadId: thread.id });
    expect(discord.message(sent.id)?.content).toBe('Greetings, traveller.');
    await expect(webhook.editMessage(sent.id, { content: 'no thread_id' })).rejects.toMatchObject({ code: 10008 });
  });

  it('refuses names Discord refuses and answers 10015 for a deleted webhook', async () => {
    const webhook = await textChannel().createWebhook({ name: 'DreamChat' });
    await expect(webhook.send({ content: 'hi', username: 'Clyde' })).rejects.toMatchObject({ code: 50035, status: 400 });
    discord.deleteWebhook(webhook.id);
    await expect(webhook.send({ content: 'hi', username: 'Aria' })).rejects.toMatchObject({ code: 10015, status: 404 });
  });

  it('answers 403 Missing Permissions when the bot may not manage webhooks', async () => {
    const updated = once(client, Events.GuildRoleUpdate);
    discord.setBotPermissions(guild.id, DEFAULT_BOT_PERMISSIONS & ~PermissionFlagsBits.ManageWebhooks);
    try {
      await updated;
      expect(textChannel().permissionsFor(client.user!)?.has(PermissionFlagsBits.ManageWebhooks)).toBe(false);
      await expect(textChannel().fetchWebhooks()).rejects.toMatchObject({ code: 50013, status: 403 });
    } finally {
      discord.setBotPermissions(guild.id, DEFAULT_BOT_PERMISSIONS);
    }
  });

  it('works from a standalone REST client, as worker processes use it', async () => {
    const rest = new REST({ api: discord.restUrl }).setToken(discord.token);
    const webhook = (await rest.post(Routes.channelWebhooks(channel.id), { body: { name: 'DreamChat' } })) as { id: string; token: string };
    const message = (await rest.post(Routes.webhook(webhook.id, webhook.token), {
      body: { content: 'from a worker', username: 'Aria' },
      query: new URLSearchParams({ wait: 'true' }),
      auth: false,
    })) as { id: string; author: { username: string } };
    expect(message.author.username).toBe('Aria');
    const stranger = new REST({ api: discord.restUrl, retries: 0 }).setToken('not-the-token');
    await expect(stranger.get(Routes.channel(channel.id))).rejects.toMatchObject({ status: 401 });
  });
});

describe('rate limits', () => {
  it('makes discord.js wait retry_after after a scripted 429, then succeed', async () => {
    discord.failNext({ method: 'POST', route: '/channels/:channelId/messages', status: 429, retryAfter: 0.4 });
    const from = discord.requests.length;
    const sent = await textChannel().send('patience');
    const calls = discord.requestsTo({ method: 'POST', route: '/channels/:channelId/messages', since: from });
    expect(calls.map((call) => call.status)).toEqual([429, 200]);
    expect(calls[1]!.time - calls[0]!.time).toBeGreaterThanOrEqual(400);
    expect(discord.message(sent.id)?.content).toBe('patience');
  });

  it('makes discord.js retry a scripted 500', async () => {
    discord.failNext({ method: 'POST', route: '/channels/:channelId/typing', status: 500 });
    await textChannel().sendTyping();
    expect(discord.requestsTo({ route: '/channels/:channelId/typing' }).map((call) => call.status).slice(-2)).toEqual([500, 204]);
  });

  it('sends bucket headers that discord.js obeys without ever hitting a 429', async () => {
    const fake = await startFakeDiscord({ rateLimits: { 'POST /channels/:channelId/messages': { limit: 2, windowMs: 300 } } });
    const other = newClient(fake);
    try {
      const target = fake.addTextChannel(fake.addGuild().id);
      await login(other, fake);
      const sendable = other.channels.cache.get(target.id) as TextChannel;
      await Promise.all([sendable.send('one'), sendable.send('two'), sendable.send('three')]);
      const calls = fake.requestsTo({ method: 'POST', route: '/channels/:channelId/messages' });
      expect(calls.map((call) => call.status)).toEqual([200, 200, 200]);
      expect(calls[2]!.time - calls[0]!.time).toBeGreaterThanOrEqual(250);
    } finally {
      await other.destroy();
      await fake.close();
    }
  });

  it('sends x-ratelimit headers and answers 429 past a bucket', async () => {
    const fake = await startFakeDiscord({ rateLimits: { 'POST /channels/:channelId/messages': { limit: 2, windowMs: 60_000 } } });
    try {
      const target = fake.addTextChannel(fake.addGuild().id);
      const post = () =>
        fetch(`${fake.restUrl}/v10/channels/${target.id}/messages`, {
          method: 'POST',
          headers: { authorization: `Bot ${fake.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ content: 'hi' }),
        });
      const first = await post();
      expect(first.headers.get('x-ratelimit-limit')).toBe('2');
      expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
      expect(first.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/);
      await post();
      const third = await post();
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await third.json()).toMatchObject({ message: 'You are being rate limited.', global: false });
    } finally {
      await fake.close();
    }
  });
});

describe('lifecycle', () => {
  it('acknowledges heartbeats and closes cleanly on client.destroy()', async () => {
    const fake = await startFakeDiscord({ heartbeatIntervalMs: 50 });
    const other = newClient(fake);
    await login(other, fake);
    await fake.waitFor(() => fake.gateway.heartbeats >= 2, 2000, 'two heartbeats');
    await fake.waitFor(() => other.ws.ping >= 0, 2000, 'a heartbeat ACK');
    await other.destroy();
    await fake.waitFor(() => fake.gateway.liveSessions === 0, 2000, 'the session to close');
    expect(fake.gateway.closeCodes).toContain(1000);
    await fake.close();
  });

  it('fails waits with a list of recent calls', async () => {
    await expect(discord.waitFor(() => false, 20, 'nothing')).rejects.toThrow(/Recent REST calls/);
  });
});
