import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import {
  checkJobId,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  emptyCounts,
  type JobHandler,
  type JobInfo,
  type JobOptions,
  type JobQueue,
  type JobStatus,
} from './job-queue.js';

export interface BullmqJobQueueOptions {
  url: string;
  logger: Logger;
  /** Key prefix in Redis (default "dreamchat"); tests use their own. */
  prefix?: string;
}

/**
 * Jobs in Redis through BullMQ, shared by every process that connects to the
 * same Redis. A job whose worker dies is found stalled and run again; finished
 * jobs are kept a while so a repeated job id is recognised and not run twice.
 */
export class BullmqJobQueue implements JobQueue {
  readonly #connection: Redis;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #queues = new Map<string, Queue>();
  readonly #workers = new Map<string, Worker>();

  constructor(options: BullmqJobQueueOptions) {
    this.#logger = options.logger.child({ component: 'queue' });
    this.#prefix = options.prefix ?? 'dreamchat';
    this.#connection = new Redis(options.url, {
      maxRetriesPerRequest: null,
      // Keep reconnecting while Redis restarts, up to every 5 s.
      retryStrategy: (times) => Math.min(times * 200, 5000),
    });
    this.#connection.on('error', (error) => this.#logger.warn({ err: error }, 'Redis connection error'));
  }

  async add<T>(queue: string, data: T, options: JobOptions = {}): Promise<{ id: string }> {
    const job = await this.#queue(queue).add(queue, data, {
      jobId: options.jobId ? checkJobId(options.jobId) : undefined,
      attempts: Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS),
      backoff: { type: 'exponential', delay: options.backoffMs ?? DEFAULT_BACKOFF_MS },
      delay: options.delayMs,
      removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    });
    return { id: job.id! };
  }

  process<T>(queue: string, handler: JobHandler<T>, options: { concurrency?: number } = {}): void {
    if (this.#workers.has(queue)) throw new Error(`Queue "${queue}" already has a worker in this process.`);
    const worker = new Worker(
      queue,
      async (job: Job, _token?: string, signal?: AbortSignal) =>
        handler(job.data as T, {
          id: job.id!,
          queue,
          attempt: job.attemptsMade + 1,
          logger: this.#logger.child({ queue, job: job.id, attempt: job.attemptsMade + 1 }),
          signal: signal ?? new AbortController().signal,
          updateProgress: (progress) => job.updateProgress(progress),
        }),
      {
        connection: this.#connection,
        prefix: this.#prefix,
        concurrency: Math.max(1, options.concurrency ?? 1),
        stalledInterval: 30_000,
        maxStalledCount: 2,
      },
    );
    worker.on('error', (error) => this.#logger.warn({ err: error, queue }, 'worker error'));
    worker.on('failed', (job, error) => {
      const final = job && job.attemptsMade >= (job.opts.attempts ?? 1);
      this.#logger[final ? 'error' : 'warn']({ err: error, queue, job: job?.id }, final ? 'job failed for good' : 'job failed; it will be retried');
    });
    this.#workers.set(queue, worker);
  }

  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    const job = await this.#queue(queue).getJob(id);
    if (!job) return undefined;
    return {
      id,
      status: toStatus(await job.getState()),
      attemptsMade: job.attemptsMade,
      failedReason: job.failedReason || undefined,
      progress: job.progress,
      returnValue: job.returnvalue ?? undefined,
    };
  }

  async counts(queue: string): Promise<Record<JobStatus, number>> {
    const raw = await this.#queue(queue).getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    const counts = emptyCounts();
    counts.waiting = (raw.waiting ?? 0) + (raw.prioritized ?? 0);
    counts.delayed = raw.delayed ?? 0;
    counts.active = raw.active ?? 0;
    counts.completed = raw.completed ?? 0;
    counts.failed = raw.failed ?? 0;
    return counts;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#workers.values()].map((worker) => worker.close()));
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
    await this.#connection.quit().catch(() => this.#connection.disconnect());
  }

  #queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#connection, prefix: this.#prefix });
      queue.on('error', (error) => this.#logger.warn({ err: error, queue: name }, 'queue error'));
      this.#queues.set(name, queue);
    }
    return queue;
  }
}

function toStatus(state: string): JobStatus {
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    case 'delayed':
    case 'active':
    case 'completed':
    case 'failed':
      return state;
    default:
      return 'unknown';
  }
}
