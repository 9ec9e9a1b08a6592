import type { Client } from 'discord.js';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor } from '../../src/core/identity.js';
import { createDeps, type OwnedDeps } from '../../src/deps.js';
import { startBot } from '../../src/discord/bot.js';
import { loadCommands } from '../../src/discord/load-commands.js';
import { createLogger } from '../../src/logger.js';
import { startFakeDiscord, type FakeDiscord, type StoredChannel, type StoredMessage } from '../discord-fake/index.js';
import { inject } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { hasRedisServer, RedisServer, type LogLines } from './services.js';
import { fakeServicesEnv } from '../support/fake-env.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';

/** A fake Discord server with `channels` channels, a fake OpenAI, and the environment a bot process needs to use them. */
export interface FaultWorld {
  discord: FakeDiscord;
  llm: FakeServer;
  guildId: string;
  alice: string;
  channels: StoredChannel[];
  /** Every message people sent, in order. */
  sent: StoredMessage[];
  /** The environment of a bot or worker process on these fakes, the given database and (optionally) Redis. */
  env(services: { databaseUrl: string; redisUrl?: string }, extra?: Record<string, string>): Record<string, string>;
  /** Alice writes in channel `index`. */
  say(index: number, content: string): StoredMessage;
  close(): Promise<void>;
}

export async function startFaultWorld(options: { channels: number }): Promise<FaultWorld> {
  const llm = await startFakeOpenAI();
  const discord = await startFakeDiscord({ botUser: { username: 'DreamChat' }, rateLimits: 'relaxed', waitTimeoutMs: 30_000 });
  const owner = discord.addUser({ username: 'owner' });
  const guild = discord.addGuild({ name: 'Tavern', ownerId: owner.id });
  const alice = discord.addUser({ username: 'alice', globalName: 'Alice' }).id;
  discord.addMember(guild.id, alice);
  const channels = Array.from({ length: options.channels }, (_, i) => discord.addTextChannel(guild.id, { name: `room-${i}` }));
  const sent: StoredMessage[] = [];
  return {
    discord,
    llm,
    guildId: guild.id,
    alice,
    channels,
    sent,
    env: (services, extra = {}) => ({
      DATABASE_URL: services.databaseUrl,
      ...(services.redisUrl ? { REDIS_URL: services.redisUrl } : {}),
      ...fakeServicesEnv(discord, llm),
      // Load, not abuse: no per-person limits in the way.
      USAGE_USER_MESSAGES_PER_MINUTE: '0',
      USAGE_SERVER_MESSAGES_PER_MINUTE: '0',
      USAGE_USER_TOKENS_PER_DAY: '0',
      USAGE_SERVER_TOKENS_PER_DAY: '0',
      SHUTDOWN_GRACE_MS: '5000',
      ...extra,
    }),
    say(index, content) {
      const message = discord.userSays(channels[index]!.id, alice, content);
      sent.push(message);
      return message;
    },
    async close() {
      await discord.close();
      await llm.close();
    },
  };
}

/** The gateway in this process: real deps on the given services, the real discord.js client logged into the fake. */
export interface Gateway {
  deps: OwnedDeps;
  client: Client;
  close(): Promise<void>;
}

export async function startGateway(world: FaultWorld, env: Record<string, string>, logs?: LogLines): Promise<Gateway> {
  const config = loadConfig(env);
  const deps = await createDeps(config, logs ? createLogger('info', logs) : createLogger(config.logLevel));
  const client = await startBot({ token: world.discord.token, apiUrl: world.discord.restUrl, commands: await loadCommands(), deps });
  await new Promise<void>((resolve) => (client.isReady() ? resolve() : client.once('clientReady', () => resolve())));
  return {
    deps,
    client,
    async close() {
      await client.destroy();
      client.rest.setToken(world.discord.token);
      await deps.close();
    },
  };
}

/** Aria, a server character, answering every message in each of the world's channels. */
export async function bindAria(deps: OwnedDeps, world: FaultWorld): Promise<void> {
  const em = deps.database.orm.em.fork();
  const actor = await resolveActor(em, { user: { id: world.alice, username: 'alice' }, guild: { id: world.guildId, name: 'Tavern' } });
  const aria = await createCharacter(em, actor, { name: 'Aria', personalityPrompt: 'A bard.', visibility: 'guild' });
  for (const channel of world.channels) {
    await bindCharacter(em, actor, { id: channel.id, kind: 'channel' }, aria, { replyMode: 'all' });
  }
}

/**
 * The database of this test run (a new one on DATABASE_URL's server, or the
 * embedded one) and, when that is a real server and redis-server is installed,
 * a private Redis, so replies go through the reply queue as in production.
 */
export async function runServices(): Promise<{
  databaseUrl: string;
  redisUrl?: string;
  env: Record<string, string>;
  close(): Promise<void>;
}> {
  const db = await createTestDatabase({ embeddingDimension: 64 });
  // The bot opens its own pool; the embedded server has one session, so the test's pool steps aside.
  await db.orm.close();
  const embedded = inject('embedded');
  const redis = !embedded && hasRedisServer ? await RedisServer.start() : undefined;
  return {
    databaseUrl: db.url,
    redisUrl: redis?.url,
    env: embedded ? { DATABASE_POOL_SIZE: '1' } : {},
    async close() {
      await redis?.stop();
      await db.close();
    },
  };
}
