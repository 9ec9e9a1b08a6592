import type { Deps } from './deps.js';
import { chunkDocument } from './knowledge/chunk.js';
import { extractText } from './knowledge/extract.js';
import { ingestHandler } from './knowledge/ingest-job.js';
import { INGEST_QUEUE, requeueUnfinished } from './knowledge/knowledge.js';
import { guardedFetch } from './llm/endpoint-guard.js';
import { MEMORIZE_QUEUE, memorizeHandler, requeueUnmemorized } from './memory/memorize.js';
import { SUMMARIZE_QUEUE, summarizeHandler } from './memory/summary.js';
import { NOTES_QUEUE, notesHandler } from './memory/notes-job.js';
import { meteredEmbedder, meteredIngest, meteredJob } from './metrics/jobs.js';

/** Limits for knowledge files; the README lists them. */
export const INGEST_LIMITS = {
  maxBytes: 25 * 1024 * 1024,
  timeoutMs: 60_000,
  maxUnpackedBytes: 200 * 1024 * 1024,
};

/**
 * Registers the consumers of every job queue. The bot process and each
 * `npm run worker` process call this; BullMQ spreads the jobs among them.
 * Items left unfinished by a crash are queued again (their job ids make that
 * a no-op when the queue still has them).
 */
export async function startWorkers(deps: Deps): Promise<void> {
  const { metrics } = deps;
  const ingestAttempts = 3;
  const ingest = ingestHandler({
    orm: deps.database.orm,
    embedder: meteredEmbedder(deps.embedder, metrics),
    extract: extractText,
    chunk: (extracted) => chunkDocument(extracted),
    fetch: guardedFetch({ allowPrivate: deps.config.secrets.allowPrivateEndpoints }),
    limits: INGEST_LIMITS,
    attempts: ingestAttempts,
    queue: deps.queue,
  });
  deps.queue.process(
    INGEST_QUEUE,
    meteredJob(metrics, INGEST_QUEUE, meteredIngest(metrics, { orm: deps.database.orm, attempts: ingestAttempts }, ingest)),
    { concurrency: deps.config.workerConcurrency },
  );
  deps.queue.process(
    MEMORIZE_QUEUE,
    meteredJob(metrics, MEMORIZE_QUEUE, memorizeHandler({ orm: deps.database.orm, embedder: deps.embedder })),
    { concurrency: deps.config.workerConcurrency },
  );
  deps.queue.process(
    SUMMARIZE_QUEUE,
    meteredJob(metrics, SUMMARIZE_QUEUE, summarizeHandler({ orm: deps.database.orm, resolveModel: deps.resolveModel })),
    { concurrency: 1 },
  );
  // One at a time: a job reads every exchange of its person not read yet, so two at once would read the same.
  deps.queue.process(
    NOTES_QUEUE,
    meteredJob(metrics, NOTES_QUEUE, notesHandler({ orm: deps.database.orm, resolveModel: deps.resolveModel })),
    { concurrency: 1 },
  );
  const requeued = await requeueUnfinished(deps.database.orm.em.fork(), deps.queue);
  const memories = await requeueUnmemorized(deps.database.orm.em.fork(), deps.queue);
  deps.logger.info({ requeued, memories, queue: deps.config.redis.url ? 'redis' : 'in-process' }, 'workers started');
}
