import type { ModelResolver, Responder } from './chat/responder.js';
import { SceneDirector } from './scenes/director.js';
import type { Config } from './config.js';
import { checkEmbeddingDimension, migrateUp, openDatabase, type Database } from './db/database.js';
import { createEmbedder } from './embeddings/create-embedder.js';
import type { Embedder } from './embeddings/embedder.js';
import { createJobQueue } from './queue/create-job-queue.js';
import { createReplyDrafts, type ReplyDrafts } from './queue/drafts.js';
import { createLocks, type Locks } from './queue/lock.js';
import { dispatchReplies, REPLY_QUEUE } from './chat/reply-jobs.js';
import type { JobQueue } from './queue/job-queue.js';
import { ProviderRegistry, seedSystemInstances } from './llm/registry.js';
import { SecretBox } from './llm/secrets.js';
import type { Logger } from './logger.js';
import type { UsageBudget } from './usage/budget.js';
import { createUsageBudget } from './usage/create-budget.js';
import { INGEST_QUEUE } from './knowledge/knowledge.js';
import { MEMORIZE_QUEUE } from './memory/memorize.js';
import { SUMMARIZE_QUEUE } from './memory/summary.js';
import { NOTES_QUEUE } from './memory/notes-job.js';
import { Metrics } from './metrics/metrics.js';
import { InstrumentedResponder } from './metrics/responder.js';
import { guardedFetch } from './llm/endpoint-guard.js';
import { MessageImages } from './images/message-images.js';

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
  /** Reply limits per person and server (Redis when REDIS_URL is set), and their current state for /usage. */
  usage: UsageBudget;
  /** This process's Prometheus metrics (GET /metrics). */
  metrics: Metrics;
  /** Locks shared by every process (Redis), e.g. one reply at a time per conversation. */
  locks: Locks;
  /** The messages of replies being written, per conversation, so a dead worker's half-written reply is taken over. */
  drafts: ReplyDrafts;
}

export interface OwnedDeps extends Deps {
  /**
   * Closes what createDeps opened, in reverse order: scene rounds and replies
   * being written finish, the queue stops taking jobs and waits for the
   * running ones, then the embedder and the database close.
   */
  close(): Promise<void>;
}

/** Opens the database (applying pending migrations), the job queue, the embedder and the providers. */
export async function createDeps(config: Config, logger: Logger): Promise<OwnedDeps> {
  const embedder = createEmbedder(config);
  const secrets = config.secrets.keys ? SecretBox.fromConfig(config.secrets.keys) : undefined;
  if (!secrets) logger.warn('SECRET_KEYS is not set: users and servers cannot store API keys until it is.');
  const database = await openDatabase(config, logger);
  try {
    const applied = await migrateUp(database.orm, { concurrent: true });
    if (applied.length) logger.info({ applied }, 'database migrations applied');
    await checkEmbeddingDimension(database.orm, config.embedding.dimension);
    await seedSystemInstances(database.orm.em.fork(), config);
  } catch (error) {
    await database.close();
    throw error;
  }
  const { url: redisUrl, prefix, lockMs } = config.redis;
  const queue = createJobQueue({ redisUrl, logger, prefix, lockMs });
  const locks = createLocks({ redisUrl, prefix });
  const drafts = createReplyDrafts({ redisUrl, prefix });
  const metrics = new Metrics();
  metrics.watchQueues(queue, [REPLY_QUEUE, INGEST_QUEUE, MEMORIZE_QUEUE, SUMMARIZE_QUEUE, NOTES_QUEUE]);
  const providers = new ProviderRegistry({ config, secrets });
  const resolveModel: ModelResolver = (request) => providers.resolve(database.orm.em.fork(), request);
  const usage = createUsageBudget(config, logger, database.orm);
  const images = new MessageImages({
    // Discord's CDN, fetched like knowledge files: only public addresses unless the operator allows private ones.
    fetch: guardedFetch({ allowPrivate: config.secrets.allowPrivateEndpoints }),
    config,
    providers,
    logger,
    spend: (actor, tokens) => usage.budget.spend(actor, tokens),
  });
  const responder = new InstrumentedResponder({
    orm: database.orm,
    embedder,
    resolveModel,
    logger,
    queue,
    metrics,
    budget: usage.budget,
    images,
    notesDelayMs: config.notesDelayMs,
    dispatch: config.repliesInQueue ? dispatchReplies(queue) : undefined,
  });
  const scenes = new SceneDirector({ orm: database.orm, responder, resolveModel, logger, drafts, debounceMs: config.sceneDebounceMs });
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
    locks,
    drafts,
    metrics,
    usage: usage.budget,
    async close() {
      await scenes.close();
      await responder.idle();
      await queue.close();
      await locks.close();
      await drafts.close();
      await usage.limiter.close();
      await embedder.close?.();
      await database.close();
    },
  };
}
