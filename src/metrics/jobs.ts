import type { MikroORM } from '@mikro-orm/postgresql';
import { CharacterKnowledge } from '../db/entities/index.js';
import type { Embedder } from '../embeddings/embedder.js';
import type { JobContext, JobHandler } from '../queue/job-queue.js';
import type { Metrics } from './metrics.js';

/** A job handler that counts its runs by outcome and times them (dreamchat_jobs_total, dreamchat_job_duration_seconds). */
export function meteredJob<T>(metrics: Metrics, queue: string, handler: JobHandler<T>): JobHandler<T> {
  return async (data, context) => {
    const end = metrics.jobDuration.startTimer({ queue });
    try {
      const result = await handler(data, context);
      metrics.jobs.inc({ queue, outcome: 'completed' });
      return result;
    } catch (error) {
      metrics.jobs.inc({ queue, outcome: 'failed' });
      throw error;
    } finally {
      end();
    }
  };
}

/** The embedder given to ingest jobs: counts the passages and bytes it embeds (the ingestion rate). */
export function meteredEmbedder(embedder: Embedder, metrics: Metrics): Embedder {
  return {
    id: embedder.id,
    dimension: embedder.dimension,
    async embed(texts, signal) {
      const vectors = await embedder.embed(texts, signal);
      metrics.ingestChunks.inc(texts.length);
      metrics.ingestBytes.inc(texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0));
      return vectors;
    },
  };
}

/**
 * Counts knowledge items by outcome around the ingest handler: completed (it
 * returned its chunks), refused (it returned nothing and marked the item
 * failed: a bad file), skipped (nothing to do), retried or failed (it threw,
 * before or on its last try).
 */
export function meteredIngest<T extends { knowledgeId: string }>(
  metrics: Metrics,
  deps: { orm: MikroORM; attempts: number },
  handler: (data: T, context: JobContext) => Promise<{ chunks: number } | undefined>,
): JobHandler<T> {
  return async (data, context) => {
    try {
      const result = await handler(data, context);
      if (result) metrics.ingestItems.inc({ outcome: 'completed' });
      else metrics.ingestItems.inc({ outcome: (await refused(deps.orm, data.knowledgeId)) ? 'refused' : 'skipped' });
      return result;
    } catch (error) {
      metrics.ingestItems.inc({ outcome: context.attempt >= deps.attempts ? 'failed' : 'retried' });
      throw error;
    }
  };
}

async function refused(orm: MikroORM, knowledgeId: string): Promise<boolean> {
  const item = await orm.em
    .fork()
    .findOne(CharacterKnowledge, knowledgeId, { fields: ['status'] })
    .catch(() => null);
  return item?.status === 'failed';
}
