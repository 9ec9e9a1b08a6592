import { once } from 'node:events';
import type { DiscordAPIError } from '@discordjs/rest';
import { ChannelType, Client, Events, GatewayIntentBits, PermissionFlagsBits, type Message } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord, type StoredChannel, type StoredGuild } from './index.js';
import { login, newClient, startTestWorld, type TestWorld } from './test-world.js';

let world: TestWorld;
let discord: FakeDiscord;
let client: Client;
let guild: StoredGuild;
let channel: StoredChannel;
let aliceId: string;
const textChannel = () => world.textChannel();

beforeAll(async () => {
  world = await startTestWorld();
  ({ discord, client, guild, channel, aliceId } = world);
});

afterAll(async () => {
  await world?.close();
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

  it('blanks message content for a client without the Message Content intent, unless it is mentioned', async () => {
    const fake = await startFakeDiscord();
    const limited = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages], rest: { api: fake.restUrl } });
    try {
      const target = fake.addTextChannel(fake.addGuild().id);
      const user = fake.addUser({ username: 'bob' });
      await login(limited, fake);
      const plain = once(limited, Events.MessageCreate) as Promise<[Message]>;
      fake.userSays(target.id, user.id, 'secret');
      expect((await plain)[0].content).toBe('');
      const mentioned = once(limited, Events.MessageCreate) as Promise<[Message]>;
      fake.userSays(target.id, user.id, `<@${fake.botUser.id}> hello`);
      expect((await mentioned)[0].content).toBe(`<@${fake.botUser.id}> hello`);
    } finally {
      await limited.destroy();
      await fake.close();
    }
  });

  it('fails waits with a list of recent calls', async () => {
    await expect(discord.waitFor(() => false, 20, 'nothing')).rejects.toThrow(/Recent REST calls/);
  });
});
