import type { Config } from './config.js';
import { checkEmbeddingDimension, migrateUp, openDatabase, type Database } from './db/database.js';
import type { Logger } from './logger.js';
import { createJobQueue } from './jobs/create-job-queue.js';
import type { JobQueue } from './jobs/job-queue.js';

/** Everything a handler or a job needs, built once per process and passed explicitly. */
export interface Deps {
  config: Config;
  logger: Logger;
  database: Database;
  queue: JobQueue;
}

export interface OwnedDeps extends Deps {
  /** Closes what createDeps opened, in reverse order: queue (waits for running jobs), then the database. */
  close(): Promise<void>;
}

/** Opens the database (applying pending migrations) and the job queue. */
export async function createDeps(config: Config, logger: Logger): Promise<OwnedDeps> {
  const database = await openDatabase(config, logger);
  try {
    const applied = await migrateUp(database.orm);
    if (applied.length) logger.info({ applied }, 'database migrations applied');
    await checkEmbeddingDimension(database.orm, config.embedding.dimension);
  } catch (error) {
    await database.close();
    throw error;
  }
  const queue = createJobQueue({ redisUrl: config.redis.url, logger });
  return {
    config,
    logger,
    database,
    queue,
    async close() {
      await queue.close();
      await database.close();
    },
  };
}
