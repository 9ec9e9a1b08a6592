import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkScenes } from './check-scenes.js';
import { checkChannels, emptyViolations, loadRows, type CheckResult } from './check.js';
import { drive } from './drive.js';
import { distribution, overheads, restFigures } from './measure.js';
import { seededRandom as seeded } from '../../src/scenes/turns.js';
import type { LoadParams } from './params.js';
import { problemsIn, startBotProcess, stopBotProcess, type BotProcess } from './processes.js';
import { startPacedProvider } from './provider.js';
import { openServices } from './services.js';
import { settle } from './settle.js';
import { buildWorld, setUpThroughCommands } from './world.js';

export interface LoadRunOptions {
  /** The run's own database on DATABASE_URL's server (created and dropped). */
  database: string;
  /** The Redis logical DB it uses (flushed at start and end). */
  redisDb: number;
  log?: (line: string) => void;
}

/**
 * The load run: a fake Discord and a paced fake OpenAI in this process, the
 * bot as real processes (one gateway, `workers` workers) on a database and
 * Redis DB of its own; people talk for `minutes`; then the figures and the
 * end-state check. `ok` is false when any violation or process error is found.
 */
export async function runLoad(params: LoadParams, options: LoadRunOptions) {
  const log = options.log ?? (() => {});
  const serverUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!serverUrl || !redisUrl) throw new Error('The load run needs DATABASE_URL (a PostgreSQL server with pgvector) and REDIS_URL.');
  const began = Date.now();
  const random = seeded(params.seed);
  const services = await openServices({ serverUrl, redisUrl, database: options.database, redisDb: options.redisDb });
  const provider = await startPacedProvider(params, seeded(params.seed + 1));
  const built = await buildWorld(params);
  const { discord } = built;
  const logDir = await mkdtemp(path.join(os.tmpdir(), 'dreamchat-load-'));
  const env = {
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.restUrl,
    OPENAI_API_KEY: 'sk-load-test',
    OPENAI_BASE_URL: provider.server.url,
    OPENAI_MODEL: 'gpt-4o-mini',
    EMBEDDER: 'hashing',
    EMBEDDING_DIMENSION: '384',
    SECRET_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'warn',
    SCENE_DEBOUNCE_MS: String(params.sceneDebounceMs),
    // Note-taking runs during the load as it would in use, not 30 s after it.
    NOTES_DELAY_MS: '2000',
    SHUTDOWN_GRACE_MS: '10000',
  };
  const bots: BotProcess[] = [];
  try {
    log(`starting the gateway and ${params.workers} workers (logs in ${logDir})`);
    // The database is migrated already, so the three can start together.
    const starting = [
      startBotProcess({ name: 'gateway', entry: 'src/main.ts', env, logDir }),
      ...Array.from({ length: params.workers }, (_, i) =>
        startBotProcess({ name: `worker-${i + 1}`, entry: 'src/worker.ts', env, logDir }),
      ),
    ];
    const outcomes = await Promise.allSettled(starting);
    for (const outcome of outcomes) if (outcome.status === 'fulfilled') bots.push(outcome.value);
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    log(`processes ready after ${round((Date.now() - began) / 1000)} s`);
    log('setting up characters, channels and scenes through slash commands');
    const world = await setUpThroughCommands(built, params);
    const setupSeconds = (Date.now() - began) / 1000;
    log(`set up after ${round(setupSeconds)} s`);
    const sinceSeq = discord.requests.at(-1)?.seq ?? 0;
    const callsBefore = provider.calls.length;
    log(`${params.users} people talking in ${params.channels} channels and ${params.scenes} scenes for ${params.minutes} min`);
    const driveStarted = Date.now();
    const sent = await drive(world, params, random);
    const driveSeconds = (Date.now() - driveStarted) / 1000;
    log(`${sent.length} messages sent; waiting for queues and scenes to settle`);
    const settled = await settle({
      services,
      discord,
      calls: provider.calls,
      quietMs: params.sceneDebounceMs + 3000,
      timeoutMs: params.settleTimeoutMs,
    });
    const calls = provider.calls.slice(callsBefore);
    const rows = await loadRows(services);
    const conversations = await services.sql<{ id: string; discord_channel_id: string; scene: unknown }>(
      `select id, discord_channel_id, settings -> 'scene' as scene from conversations`,
    );
    const channelIds = new Set(world.places.filter((p) => p.kind === 'channel').map((p) => p.id));
    const threadIds = new Set(world.places.filter((p) => p.kind === 'scene').map((p) => p.id));
    const channelOf = new Map(conversations.filter((c) => channelIds.has(c.discord_channel_id)).map((c) => [c.id, c.discord_channel_id]));
    const threadOf = new Map(
      conversations.filter((c) => threadIds.has(c.discord_channel_id) && c.scene).map((c) => [c.id, c.discord_channel_id]),
    );
    const result: CheckResult = {
      violations: emptyViolations(),
      failedVisibly: 0,
      replies: { channels: 0, scenes: 0 },
      rounds: 0,
      examples: [],
    };
    const callsByTag = new Map(calls.map((c) => [c.tag, c]));
    checkChannels({ discord, sent, rows, calls: callsByTag, channelOf }, result);
    await checkScenes({ services, discord, sent, rows, calls: callsByTag, threadOf }, result);
    if (!settled.settled)
      result.examples.push(
        `not settled after ${settled.ms} ms: queues ${JSON.stringify(settled.depth)}, ${settled.runningRounds} rounds running`,
      );

    const channelSent = sent.filter((m) => m.place.kind === 'channel');
    const sceneSent = sent.filter((m) => m.place.kind === 'scene');
    const channelOverhead = overheads(channelSent, calls);
    const sceneOverhead = overheads(sceneSent, calls);
    const e2e = endToEnd(discord, channelSent, rows, channelOf);
    const storedAt = new Map(rows.filter((r) => r.discordMessageId).map((r) => [r.discordMessageId!, r.createdAt.getTime()]));
    const ingest = sent.map((m) => (storedAt.get(m.discordId) ?? NaN) - m.dispatchedAt).filter(Number.isFinite);
    const rest = restFigures(discord, sinceSeq);
    log('stopping the bot processes');
    const exits = await Promise.all(bots.map(async (bot) => ({ name: bot.name, ...(await stopBotProcess(bot)) })));
    const problems = await Promise.all(bots.map(problemsIn));
    const processErrors = problems.reduce((sum, p) => sum + p.errors, 0);
    const badExits = exits.filter((e) => e.code !== 0);
    const violationCount = Object.values(result.violations).reduce((sum, n) => sum + n, 0);
    return {
      parameters: params,
      processes: { gateway: 1, workers: params.workers },
      seconds: {
        setup: round(setupSeconds),
        talking: round(driveSeconds),
        settle: round(settled.ms / 1000),
        total: round((Date.now() - began) / 1000),
      },
      messages: {
        sent: sent.length,
        channels: channelSent.length,
        scenes: sceneSent.length,
        stored: rows.filter((r) => r.role === 'user').length,
        perSecond: round(sent.length / driveSeconds),
      },
      replies: {
        channels: result.replies.channels,
        scenes: result.replies.scenes,
        sceneRounds: result.rounds,
        failedWithVisibleError: result.failedVisibly,
        providerRequests: calls.length,
      },
      overheadMs: {
        channelsIdle: distribution(channelOverhead.idle),
        channelsIncludingWait: distribution(channelOverhead.all),
        scenesIncludingDebounce: distribution(sceneOverhead.all),
        gatewayToStored: distribution(ingest),
      },
      endToEndMs: { channelsToFinishedReply: distribution(e2e) },
      discordRest: rest,
      queueDepthAtEnd: settled.depth,
      settled: settled.settled,
      violations: result.violations,
      violationCount,
      examples: result.examples,
      processErrors: {
        errors: processErrors,
        warnings: problems.reduce((sum, p) => sum + p.warnings, 0),
        samples: problems.flatMap((p) => p.samples).slice(0, 12),
        exits: exits.map((e) => `${e.name}: ${e.code ?? e.signal}`),
      },
      logDir,
      ok: violationCount === 0 && rest.loops429 === 0 && settled.settled && badExits.length === 0 && processErrors === 0,
    };
  } finally {
    await Promise.all(bots.map((bot) => stopBotProcess(bot, 5000)));
    await discord.close();
    await provider.server.close();
    await services.close();
  }
}

/** From MESSAGE_CREATE to the last edit of the reply that covers the message (its final text on Discord). */
function endToEnd(
  discord: import('../../test/discord-fake/index.js').FakeDiscord,
  sent: import('./drive.js').SentMessage[],
  rows: import('./check.js').Row[],
  channelOf: Map<string, string>,
): number[] {
  const byDiscordId = new Map(rows.filter((r) => r.discordMessageId).map((r) => [r.discordMessageId!, r]));
  const conversationOfChannel = new Map([...channelOf].map(([conversation, channel]) => [channel, conversation]));
  const replies = rows.filter((r) => r.role === 'assistant' && r.metadata.answeredUpTo);
  const out: number[] = [];
  for (const message of sent) {
    const stored = byDiscordId.get(message.discordId);
    const conversation = conversationOfChannel.get(message.place.id);
    if (!stored || !conversation) continue;
    const reply = replies.find(
      (r) => r.conversationId === conversation && Date.parse(r.metadata.answeredUpTo!) >= stored.createdAt.getTime(),
    );
    const last = reply?.metadata.discordMessageIds?.at(-1) ?? reply?.discordMessageId;
    const shown = last ? discord.message(last) : undefined;
    if (!shown) continue;
    out.push(Math.max(shown.fake.createdAt, ...shown.fake.edits.map((e) => e.at)) - message.dispatchedAt);
  }
  return out;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
