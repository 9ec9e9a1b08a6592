import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import type { Client } from 'discord.js';
import { loadConfig } from '../../src/config.js';
import { createDeps, type OwnedDeps } from '../../src/deps.js';
import { startBot } from '../../src/discord/bot.js';
import { loadCommands } from '../../src/discord/load-commands.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { startFakeDiscord, type FakeDiscord, type RateLimitMode, type StoredChannel, type StoredGuild } from '../discord-fake/index.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { fakeServicesEnv } from './fake-env.js';

/** The whole bot (real discord.js client, real database and queue) logged into a fake Discord, with a fake OpenAI. */
export interface BotHarness {
  db: TestDatabase;
  llm: FakeServer;
  discord: FakeDiscord;
  deps: OwnedDeps;
  client: Client;
  guild: StoredGuild;
  channel: StoredChannel;
  alice: string;
  bob: string;
  close(): Promise<void>;
}

/**
 * `options.logger`: the bot's root logger (default: silent, or TEST_LOG_LEVEL to stdout). `options.rateLimits`: the
 * fake Discord's buckets (default 'relaxed'; 'discord' for Discord's own, e.g. 5 per 2 s per webhook).
 */
export async function startBotHarness(
  env: Record<string, string> = {},
  options: { logger?: Logger; rateLimits?: RateLimitMode } = {},
): Promise<BotHarness> {
  const db = await createTestDatabase({ embeddingDimension: 64 });
  // The bot opens its own pool; the embedded server has one session, so the test's pool steps aside.
  await db.orm.close();
  const llm = await startFakeOpenAI();
  const discord = await startFakeDiscord({ botUser: { username: 'DreamChat' }, rateLimits: options.rateLimits ?? 'relaxed' });
  const owner = discord.addUser({ username: 'owner' });
  const guild = discord.addGuild({ name: 'Tavern', ownerId: owner.id });
  const channel = discord.addTextChannel(guild.id, { name: 'roleplay' });
  const alice = discord.addUser({ username: 'alice', globalName: 'Alice' }).id;
  const bob = discord.addUser({ username: 'bob', globalName: 'Bob' }).id;
  discord.addMember(guild.id, alice);
  discord.addMember(guild.id, bob);
  const logLevel = process.env.TEST_LOG_LEVEL ?? 'silent';
  // Stored pictures go to a directory of the test's own, not ./data in the checkout.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'dreamchat-harness-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    // The embedded test server has one session: the bot must not open a second connection beside its first.
    ...(inject('embedded') ? { DATABASE_POOL_SIZE: '1' } : {}),
    ...fakeServicesEnv(discord, llm),
    SECRET_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    // The fake Discord serves attachments from 127.0.0.1, as the CDN would from the internet.
    ALLOW_PRIVATE_ENDPOINTS: 'true',
    ...env,
  });
  const deps = await createDeps(config, options.logger ?? createLogger(logLevel as 'silent'));
  const client = await startBot({ token: discord.token, apiUrl: discord.restUrl, commands: await loadCommands(), deps });
  await discord.waitForIdentify();
  await new Promise<void>((resolve) => (client.isReady() ? resolve() : client.once('clientReady', () => resolve())));
  return {
    db,
    llm,
    discord,
    deps,
    client,
    guild,
    channel,
    alice,
    bob,
    async close() {
      await client.destroy();
      await deps.close();
      await discord.close();
      await llm.close();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
