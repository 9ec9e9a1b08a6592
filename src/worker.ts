import { ConfigError, requireDiscordToken } from './config.js';
import { createDeps } from './deps.js';
import { acceptingCheck, dependencyChecks, startHealthServer } from './health.js';
import { exitWith, onShutdown, startProcess } from './process.js';
import { publicAvatarsOf } from './discord/attachment-urls.js';
import { restOnlyDiscord, startReplyWorkers } from './discord/reply-worker.js';
import { startWorkers } from './workers.js';

/**
 * `npm run worker`: queue workers only, for scale-out on other machines. They
 * share PostgreSQL and Redis with the bot, so both must be real servers.
 */
async function main(): Promise<void> {
  const { config, logger } = startProcess('worker');
  if (!config.database.url || !config.redis.url) {
    throw new ConfigError(
      'npm run worker needs DATABASE_URL and REDIS_URL: a worker process shares the database and the queues ' +
        'with the bot. Without them, npm start runs the workers inside the bot process.',
    );
  }
  // Replies are posted through Discord's REST API: a worker needs the bot token, not a gateway connection.
  const token = config.repliesInQueue ? requireDiscordToken(config) : undefined;
  const deps = await createDeps(config, logger);
  await startWorkers(deps);
  if (token)
    startReplyWorkers(
      deps,
      await restOnlyDiscord({ token, apiUrl: config.discord.apiUrl, logger, locks: deps.locks, publicAvatars: publicAvatarsOf(config) }),
    );
  // On SIGTERM: the workers take no new jobs and the running ones finish (up to SHUTDOWN_GRACE_MS).
  const shutdown = onShutdown(logger, config.shutdownGraceMs, async () => {
    await deps.close();
    health?.close();
  });
  const health = config.healthPort
    ? await startHealthServer({
        host: config.healthHost,
        port: config.healthPort,
        logger,
        metrics: deps.metrics,
        ...(config.publicUrl ? { avatarsFrom: config.database.dataDir } : {}),
        checks: { ...dependencyChecks(deps), accepting: acceptingCheck(shutdown.stopping) },
      })
    : undefined;
  logger.info('worker started');
}

main().catch(exitWith);
