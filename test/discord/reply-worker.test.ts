import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { Conversation } from '../../src/db/entities/index.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor } from '../../src/core/identity.js';
import { createDeps, type OwnedDeps } from '../../src/deps.js';
import { restOnlyDiscord, startReplyWorkers } from '../../src/discord/reply-worker.js';
import { createLogger } from '../../src/logger.js';
import { startFakeDiscord, type FakeDiscord, type StoredChannel } from '../discord-fake/index.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { fakeServicesEnv } from '../support/fake-env.js';
import { inject } from 'vitest';

let db: TestDatabase;
let llm: FakeServer;
let discord: FakeDiscord;
let deps: OwnedDeps;
let channel: StoredChannel;
let alice: string;

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 64 });
  await db.orm.close();
  llm = await startFakeOpenAI();
  discord = await startFakeDiscord({ botUser: { username: 'DreamChat' }, rateLimits: 'relaxed' });
  const owner = discord.addUser({ username: 'owner' });
  const guild = discord.addGuild({ name: 'Tavern', ownerId: owner.id });
  channel = discord.addTextChannel(guild.id, { name: 'roleplay' });
  alice = discord.addUser({ username: 'alice', globalName: 'Alice' }).id;
  discord.addMember(guild.id, alice);
  const config = loadConfig({
    DATABASE_URL: db.url,
    ...(inject('embedded') ? { DATABASE_POOL_SIZE: '1' } : {}),
    // Keys of its own: other test files (and other runs) share the Redis server.
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}` } : {}),
    REPLIES_IN_QUEUE: 'true',
    ...fakeServicesEnv(discord, llm),
  });
  deps = await createDeps(config, createLogger('silent'));
  // A process with no gateway connection: REST only, as `npm run worker` runs.
  startReplyWorkers(deps, await restOnlyDiscord({ token: discord.token, apiUrl: discord.restUrl, logger: deps.logger }));
  const em = deps.database.orm.em.fork();
  const actor = await resolveActor(em, { user: { id: alice, username: 'alice' }, guild: { id: guild.id, name: 'Tavern' } });
  const aria = await createCharacter(em, actor, {
    name: 'Aria',
    personalityPrompt: 'A bard.',
    avatarUrl: 'https://cdn.example.org/aria.png',
    visibility: 'guild',
  });
  await bindCharacter(em, actor, { id: channel.id, kind: 'channel' }, aria, { replyMode: 'all' });
});

afterAll(async () => {
  await deps?.close();
  await discord?.close();
  await llm?.close();
  await db?.close();
});

describe('webhooks shared by several processes', () => {
  it('are created once per channel when two processes ask at the same time', async () => {
    const other = discord.addTextChannel(channel.guildId!, { name: 'busy' });
    // Two processes: each its own REST client and cache, one lock store between them (Redis in production).
    const [first, second] = await Promise.all([
      restOnlyDiscord({ token: discord.token, apiUrl: discord.restUrl, logger: deps.logger, locks: deps.locks }),
      restOnlyDiscord({ token: discord.token, apiUrl: discord.restUrl, logger: deps.logger, locks: deps.locks }),
    ]);
    const [a, b] = await Promise.all([first.webhooks.get(other.id), second.webhooks.get(other.id)]);
    expect(a?.id).toBeDefined();
    expect(b?.id).toBe(a?.id);
    expect(discord.webhooks(other.id)).toHaveLength(1);
  });
});

describe('a worker without a gateway connection', () => {
  it('writes queued replies and posts them through the channel webhook with the character’s name and avatar', async () => {
    llm.next({ text: 'Posted by a worker over REST.' });
    const outcome = await deps.responder.onMessage(
      {
        channelId: channel.id,
        discordMessageId: String(944000000000000000n + BigInt(randomBytes(2).readUInt16BE())),
        author: { id: alice, username: 'alice' },
        guild: { id: channel.guildId! },
        content: 'Anyone there?',
        addressed: true,
      },
      () => {
        throw new Error('the receiving side wrote the reply itself');
      },
    );
    expect(outcome).toBe('queued');
    const reply = await discord.waitForMessage(
      channel.id,
      (m) => Boolean(m.webhook_id) && m.content === 'Posted by a worker over REST.',
      15_000,
    );
    expect(reply.author.username).toBe('Aria');
    expect(reply.fake.avatarUrl).toBe('https://cdn.example.org/aria.png');
    expect(JSON.stringify(reply.components)).toContain('chat:regenerate');
    expect(discord.webhooks(channel.id)).toHaveLength(1);
  });

  /** A message the channel's webhook posts as Aria, as a worker that died mid-reply leaves it. */
  async function halfWritten(content: string): Promise<string> {
    const webhook = discord.webhooks(channel.id)[0]!;
    const response = await fetch(`${discord.restUrl}/v10/webhooks/${webhook.id}/${webhook.token}?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content, username: 'Aria' }),
    });
    return ((await response.json()) as { id: string }).id;
  }

  const ask = (content: string) =>
    deps.responder.onMessage(
      {
        channelId: channel.id,
        discordMessageId: String(945000000000000000n + BigInt(randomBytes(2).readUInt16BE())),
        author: { id: alice, username: 'alice' },
        guild: { id: channel.guildId! },
        content,
        addressed: true,
      },
      () => {
        throw new Error('the receiving side wrote the reply itself');
      },
    );

  it('writes the next reply into the half-written message a dead worker left, instead of a new one', async () => {
    const conversation = await deps.database.orm.em
      .fork()
      .findOneOrFail(Conversation, { discordChannelId: channel.id }, { populate: ['character'] });
    const left = await halfWritten('Once upon a time ▌');
    await deps.drafts.save(conversation.id, { speaker: { characterId: conversation.character!.id, name: 'Aria' }, messageIds: [left] });
    const before = discord.webhookMessages(channel.id).length;
    llm.next({ text: 'Once upon a time, a worker fell, and another finished its tale.' });
    expect(await ask('Finish the story?')).toBe('queued');
    await expect
      .poll(() => discord.message(left)?.content, { timeout: 15_000 })
      .toBe('Once upon a time, a worker fell, and another finished its tale.');
    expect(JSON.stringify(discord.message(left)!.components)).toContain('chat:regenerate');
    expect(discord.webhookMessages(channel.id)).toHaveLength(before);
    expect(await deps.drafts.get(conversation.id)).toBeUndefined();
  });

  it('posts the reply anew when someone deleted the half-written message meanwhile', async () => {
    const conversation = await deps.database.orm.em
      .fork()
      .findOneOrFail(Conversation, { discordChannelId: channel.id }, { populate: ['character'] });
    const left = await halfWritten('It was a dark and ▌');
    await deps.drafts.save(conversation.id, { speaker: { characterId: conversation.character!.id, name: 'Aria' }, messageIds: [left] });
    discord.userDeletes(left);
    llm.next({ text: 'It was a dark and stormy night, told again.' });
    expect(await ask('Tell it again?')).toBe('queued');
    const reply = await discord.waitForMessage(channel.id, (m) => m.content === 'It was a dark and stormy night, told again.', 15_000);
    expect(reply.id).not.toBe(left);
    expect(JSON.stringify(reply.components)).toContain('chat:regenerate');
  });
});
