import { randomUUID } from 'node:crypto';
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

interface JobRecord {
  id: string;
  queue: string;
  data: unknown;
  attempts: number;
  backoffMs: number;
  status: JobStatus;
  attemptsMade: number;
  failedReason?: string;
  progress?: unknown;
  returnValue?: unknown;
}

interface QueueState {
  handler?: JobHandler<unknown>;
  concurrency: number;
  waiting: JobRecord[];
  running: Map<string, Promise<void>>;
}

/** Finished jobs remembered for getJob() and id de-duplication. */
const FINISHED_KEPT = 10_000;

/**
 * Jobs in this process's memory, with BullMQ's semantics: retries with
 * exponential backoff, idempotent job ids, per-queue concurrency, and a close()
 * that waits for running jobs. Used when REDIS_URL is not set; jobs do not
 * survive a restart, so the callers keep their own state in the database.
 */
export class MemoryJobQueue implements JobQueue {
  readonly #logger: Logger;
  readonly #queues = new Map<string, QueueState>();
  readonly #jobs = new Map<string, JobRecord>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #abort = new AbortController();
  #closed = false;

  constructor(options: { logger: Logger }) {
    this.#logger = options.logger;
  }

  async add<T>(queue: string, data: T, options: JobOptions = {}): Promise<{ id: string }> {
    if (this.#closed) throw new Error('The job queue is closed.');
    const id = options.jobId ? checkJobId(options.jobId) : randomUUID();
    const key = `${queue}:${id}`;
    if (this.#jobs.has(key)) return { id };
    const job: JobRecord = {
      id,
      queue,
      data: structuredClone(data),
      attempts: Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS),
      backoffMs: options.backoffMs ?? DEFAULT_BACKOFF_MS,
      status: 'waiting',
      attemptsMade: 0,
    };
    this.#jobs.set(key, job);
    if (options.delayMs) this.#later(job, options.delayMs);
    else this.#enqueue(job);
    return { id };
  }

  process<T>(queue: string, handler: JobHandler<T>, options: { concurrency?: number } = {}): void {
    const state = this.#state(queue);
    state.handler = handler as JobHandler<unknown>;
    state.concurrency = Math.max(1, options.concurrency ?? 1);
    this.#pump(queue);
  }

  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    const job = this.#jobs.get(`${queue}:${id}`);
    if (!job) return undefined;
    const { status, attemptsMade, failedReason, progress, returnValue } = job;
    return { id, status, attemptsMade, failedReason, progress, returnValue };
  }

  async counts(queue: string): Promise<Record<JobStatus, number>> {
    const counts = emptyCounts();
    for (const job of this.#jobs.values()) if (job.queue === queue) counts[job.status] += 1;
    return counts;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const running = [...this.#queues.values()].flatMap((state) => [...state.running.values()]);
    await Promise.allSettled(running);
    this.#abort.abort();
  }

  #state(queue: string): QueueState {
    let state = this.#queues.get(queue);
    if (!state) {
      state = { concurrency: 1, waiting: [], running: new Map() };
      this.#queues.set(queue, state);
    }
    return state;
  }

  #enqueue(job: JobRecord): void {
    job.status = 'waiting';
    this.#state(job.queue).waiting.push(job);
    this.#pump(job.queue);
  }

  #later(job: JobRecord, delayMs: number): void {
    job.status = 'delayed';
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#enqueue(job);
    }, delayMs);
    this.#timers.add(timer);
  }

  #pump(queue: string): void {
    const state = this.#state(queue);
    while (!this.#closed && state.handler && state.running.size < state.concurrency && state.waiting.length) {
      const job = state.waiting.shift()!;
      const run = this.#run(job, state.handler).finally(() => {
        state.running.delete(job.id);
        this.#pump(queue);
      });
      state.running.set(job.id, run);
    }
  }

  async #run(job: JobRecord, handler: JobHandler<unknown>): Promise<void> {
    job.status = 'active';
    job.attemptsMade += 1;
    const logger = this.#logger.child({ queue: job.queue, job: job.id, attempt: job.attemptsMade });
    try {
      job.returnValue = await handler(structuredClone(job.data), {
        id: job.id,
        queue: job.queue,
        attempt: job.attemptsMade,
        logger,
        signal: this.#abort.signal,
        updateProgress: async (progress) => {
          job.progress = progress;
        },
      });
      job.status = 'completed';
    } catch (error) {
      job.failedReason = error instanceof Error ? error.message : String(error);
      if (job.attemptsMade < job.attempts && !this.#closed) {
        logger.warn({ err: error }, 'job failed; it will be retried');
        this.#later(job, job.backoffMs * 2 ** (job.attemptsMade - 1));
      } else {
        logger.error({ err: error }, 'job failed for good');
        job.status = 'failed';
      }
    }
    this.#forgetOldFinished();
  }

  #forgetOldFinished(): void {
    if (this.#jobs.size <= FINISHED_KEPT) return;
    for (const [key, job] of this.#jobs) {
      if (this.#jobs.size <= FINISHED_KEPT) break;
      if (job.status === 'completed' || job.status === 'failed') this.#jobs.delete(key);
    }
  }
}
