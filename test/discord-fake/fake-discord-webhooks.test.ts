import { once } from 'node:events';
import { REST } from '@discordjs/rest';
import { Events, PermissionFlagsBits, Routes, type Client, type TextChannel } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BOT_PERMISSIONS, startFakeDiscord, type FakeDiscord, type StoredChannel, type StoredGuild } from './index.js';
import { login, newClient, startTestWorld, type TestWorld } from './test-world.js';

let world: TestWorld;
let discord: FakeDiscord;
let client: Client;
let guild: StoredGuild;
let channel: StoredChannel;
const textChannel = () => world.textChannel();

beforeAll(async () => {
  world = await startTestWorld();
  ({ discord, client, guild, channel } = world);
});

afterAll(async () => {
  await world?.close();
});

describe('webhooks', () => {
  it('sends as a character with username, avatar and thread_id, and edits in the thread', async () => {
    const webhook = await textChannel().createWebhook({ name: 'DreamChat' });
    const thread = discord.addThread(channel.id, { name: 'Scene' });
    const sent = await webhook.send({
      content: 'Greetings.',
      username: 'Aria',
      avatarURL: 'https://example.com/aria.png',
      threadId: thread.id,
    });
    const [posted] = discord.webhookMessages(thread.id);
    expect(posted).toMatchObject({ content: 'Greetings.', webhook_id: webhook.id, author: { username: 'Aria' } });
    expect(posted?.fake.avatarUrl).toBe('https://example.com/aria.png');
    expect(discord.requestsTo({ method: 'POST', route: '/webhooks/:webhookId/:token' }).at(-1)?.query).toMatchObject({
      wait: 'true',
      thread_id: thread.id,
    });

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

  it('holds every call during a scripted global rate limit', async () => {
    discord.failNext({ method: 'POST', route: '/channels/:channelId/typing', status: 429, retryAfter: 0.2, global: true });
    const from = discord.requests.length;
    await textChannel().sendTyping();
    const calls = discord.requestsTo({ route: '/channels/:channelId/typing', since: from });
    expect(calls.map((call) => call.status)).toEqual([429, 204]);
    expect(calls[1]!.time - calls[0]!.time).toBeGreaterThanOrEqual(200);
  });

  it('makes discord.js retry a scripted 500', async () => {
    discord.failNext({ method: 'POST', route: '/channels/:channelId/typing', status: 500 });
    await textChannel().sendTyping();
    expect(
      discord
        .requestsTo({ route: '/channels/:channelId/typing' })
        .map((call) => call.status)
        .slice(-2),
    ).toEqual([500, 204]);
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
