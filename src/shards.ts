import { fileURLToPath } from 'node:url';
import { ShardingManager } from 'discord.js';
import { ConfigError, requireDiscordToken } from './config.js';
import { migrateUp, openDatabase } from './db/database.js';
import { exitWith, startProcess } from './process.js';

/**
 * `npm run start:shards`: the gateway split into shards with discord.js's
 * ShardingManager, one `npm start` process per shard (Discord requires
 * sharding from about 2,500 servers). Every shard also consumes the queues;
 * `npm run worker` processes need no change. Migrations are applied here
 * once, before the shards start.
 */
async function main(): Promise<void> {
  const { config, logger } = startProcess('shards');
  const token = requireDiscordToken(config);
  if (!config.database.url || !config.redis.url) {
    throw new ConfigError(
      'npm run start:shards needs DATABASE_URL and REDIS_URL: every shard is a process of its own, sharing the database ' +
        'and the queues. For one process, use npm start.',
    );
  }
  const database = await openDatabase(config, logger);
  try {
    const applied = await migrateUp(database.orm, { concurrent: true });
    if (applied.length) logger.info({ applied }, 'database migrations applied');
  } finally {
    await database.close();
  }
  // Compiled (npm run start:shards runs dist/), each shard runs dist/src/main.js; from the TypeScript sources (tests,
  // tsx) it runs main.ts through tsx, resolved from here rather than the working directory.
  const compiled = import.meta.url.endsWith('.js');
  const manager = new ShardingManager(fileURLToPath(new URL(compiled ? './main.js' : './main.ts', import.meta.url)), {
    token,
    totalShards: config.shardCount ?? 'auto',
    execArgv: compiled ? [] : ['--import', import.meta.resolve('tsx')],
    respawn: true,
  });
  manager.on('shardCreate', (shard) => {
    logger.info({ shard: shard.id, of: manager.totalShards }, 'shard started');
    shard.on('death', () => logger.warn({ shard: shard.id }, 'shard process exited; restarting it'));
  });
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping the shards');
    // Each shard shuts down gracefully on SIGTERM (replies and jobs finish); wait for all of them.
    manager.respawn = false;
    await Promise.all(
      [...manager.shards.values()].map(
        (shard) =>
          new Promise<void>((resolve) => {
            const child = shard.process;
            if (!child || child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await manager.spawn({ timeout: 120_000 });
}

main().catch(exitWith);
