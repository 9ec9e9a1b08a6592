import { Responder, type ModelResolver } from './chat/responder.js';
import { SceneDirector } from './scenes/director.js';
import type { Config } from './config.js';
import { checkEmbeddingDimension, migrateUp, openDatabase, type Database } from './db/database.js';
import { createEmbedder } from './embeddings/create-embedder.js';
import type { Embedder } from './embeddings/embedder.js';
import { createJobQueue } from './queue/create-job-queue.js';
import type { JobQueue } from './queue/job-queue.js';
import { ProviderRegistry, seedSystemInstances } from './llm/registry.js';
import { SecretBox } from './llm/secrets.js';
import type { Logger } from './logger.js';

/** Everything a handler or a job needs, built once per process and passed explicitly. */
export interface Deps {
  config: Config;
  logger: Logger;
  database: Database;
  queue: JobQueue;
  embedder: Embedder;
  /** Encrypts API keys at rest; undefined until the operator sets SECRET_KEYS. */
  secrets?: SecretBox;
  providers: ProviderRegistry;
  resolveModel: ModelResolver;
  responder: Responder;
  scenes: SceneDirector;
}

export interface OwnedDeps extends Deps {
  /** Closes what createDeps opened, in reverse order: queue (waits for running jobs), then the database. */
  close(): Promise<void>;
}

/** Opens the database (applying pending migrations), the job queue, the embedder and the providers. */
export async function createDeps(config: Config, logger: Logger): Promise<OwnedDeps> {
  const embedder = createEmbedder(config);
  const secrets = config.secrets.keys ? SecretBox.fromConfig(config.secrets.keys) : undefined;
  if (!secrets) logger.warn('SECRET_KEYS is not set: users and servers cannot store API keys until it is.');
  const database = await openDatabase(config, logger);
  try {
    const applied = await migrateUp(database.orm);
    if (applied.length) logger.info({ applied }, 'database migrations applied');
    await checkEmbeddingDimension(database.orm, config.embedding.dimension);
    await seedSystemInstances(database.orm.em.fork(), config);
  } catch (error) {
    await database.close();
    throw error;
  }
  const queue = createJobQueue({ redisUrl: config.redis.url, logger });
  const providers = new ProviderRegistry({ config, secrets });
  const resolveModel: ModelResolver = (request) => providers.resolve(database.orm.em.fork(), request);
  const responder = new Responder({ orm: database.orm, embedder, resolveModel, logger, queue });
  const scenes = new SceneDirector({ orm: database.orm, responder, resolveModel, logger, debounceMs: config.sceneDebounceMs });
  return {
    config,
    logger,
    database,
    queue,
    embedder,
    secrets,
    providers,
    resolveModel,
    responder,
    scenes,
    async close() {
      await scenes.close();
      await queue.close();
      await embedder.close?.();
      await database.close();
    },
  };
}
