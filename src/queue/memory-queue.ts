import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import {
  backoffDelay,
  checkJobId,
  checkPriority,
  checkQueueName,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  emptyCounts,
  errorMessage,
  type JobHandler,
  type JobInfo,
  type JobOptions,
  type JobQueue,
  type JobStatus,
} from './job-queue.js';

export interface MemoryJobQueueOptions {
  logger: Logger;
  /** Finished jobs remembered per queue, for getJob() and repeated ids (default 10 000). */
  keepFinished?: number;
}

interface JobRecord {
  id: string;
  /** Kept as JSON, as Redis would keep it, so handlers see the same values on both backends. */
  data: string;
  attempts: number;
  backoffMs: number;
  /** 0 for none (runs first), else lower runs sooner. */
  priority: number;
  status: JobStatus;
  attemptsMade: number;
  failedReason?: string;
  /** JSON, like data. */
  progress: string;
  returnValue?: string;
}

interface QueueState {
  name: string;
  handler?: JobHandler<unknown>;
  concurrency: number;
  /** Waiting, delayed and active jobs. */
  live: Map<string, JobRecord>;
  /** Completed and failed jobs, oldest first. */
  finished: Map<string, JobRecord>;
  /** Waiting jobs in the order they run: by priority, then in the order they became ready. */
  ready: JobRecord[];
  running: Set<Promise<void>>;
}

/**
 * Jobs in this process's memory with the BullMQ backend's semantics: retries
 * with exponential backoff, idempotent job ids, per-queue concurrency, and a
 * close() that waits for running jobs. Used when REDIS_URL is not set. Jobs do
 * not survive a restart, so callers keep their own state in the database.
 */
export class MemoryJobQueue implements JobQueue {
  readonly #logger: Logger;
  readonly #keepFinished: number;
  readonly #queues = new Map<string, QueueState>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closing: Promise<void> | undefined;

  constructor(options: MemoryJobQueueOptions) {
    this.#logger = options.logger.child({ component: 'queue' });
    this.#keepFinished = Math.max(1, options.keepFinished ?? 10_000);
  }

  async add<T>(queue: string, data: T, options: JobOptions = {}): Promise<{ id: string }> {
    const state = this.#state(queue);
    if (this.#closing) throw new Error('The job queue is closed.');
    const id = options.jobId === undefined ? randomUUID() : checkJobId(options.jobId);
    if (state.live.has(id) || state.finished.has(id)) return { id };
    const job: JobRecord = {
      id,
      data: JSON.stringify(data === undefined ? {} : data),
      attempts: Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS),
      backoffMs: Math.max(0, options.backoffMs ?? DEFAULT_BACKOFF_MS),
      priority: checkPriority(options.priority),
      status: 'waiting',
      attemptsMade: 0,
      progress: '0',
    };
    state.live.set(id, job);
    if (options.delayMs && options.delayMs > 0) this.#later(state, job, options.delayMs);
    else this.#enqueue(state, job);
    return { id };
  }

  process<T>(queue: string, handler: JobHandler<T>, options: { concurrency?: number } = {}): void {
    const state = this.#state(queue);
    if (this.#closing) throw new Error('The job queue is closed.');
    if (state.handler) throw new Error(`Queue "${queue}" already has a worker in this process.`);
    state.handler = handler as JobHandler<unknown>;
    state.concurrency = Math.max(1, options.concurrency ?? 1);
    this.#pump(state);
  }

  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    const state = this.#state(queue);
    const job = state.live.get(id) ?? state.finished.get(id);
    if (!job) return undefined;
    return {
      id,
      status: job.status,
      attemptsMade: job.attemptsMade,
      failedReason: job.failedReason,
      progress: JSON.parse(job.progress),
      returnValue: job.returnValue === undefined ? undefined : JSON.parse(job.returnValue),
    };
  }

  async counts(queue: string): Promise<Record<JobStatus, number>> {
    const state = this.#state(queue);
    const counts = emptyCounts();
    for (const job of state.live.values()) counts[job.status] += 1;
    for (const job of state.finished.values()) counts[job.status] += 1;
    return counts;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const running = [...this.#queues.values()].flatMap((state) => [...state.running]);
    await Promise.allSettled(running);
    const left = [...this.#queues.values()].reduce((sum, state) => sum + state.live.size, 0);
    if (left) this.#logger.warn({ jobs: left }, 'in-process queue closed with jobs not run; they are lost');
  }

  #state(queue: string): QueueState {
    let state = this.#queues.get(queue);
    if (!state) {
      state = { name: checkQueueName(queue), concurrency: 1, live: new Map(), finished: new Map(), ready: [], running: new Set() };
      this.#queues.set(queue, state);
    }
    return state;
  }

  #enqueue(state: QueueState, job: JobRecord): void {
    job.status = 'waiting';
    // After the last job of equal or higher priority, as BullMQ orders its prioritized set.
    const after = state.ready.findLastIndex((other) => other.priority <= job.priority);
    state.ready.splice(after + 1, 0, job);
    this.#pump(state);
  }

  #later(state: QueueState, job: JobRecord, delayMs: number): void {
    job.status = 'delayed';
    if (this.#closing) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#enqueue(state, job);
    }, delayMs);
    this.#timers.add(timer);
  }

  #pump(state: QueueState): void {
    const handler = state.handler;
    while (!this.#closing && handler && state.running.size < state.concurrency && state.ready.length) {
      const job = state.ready.shift()!;
      const run = this.#run(state, job, handler).finally(() => {
        state.running.delete(run);
        this.#pump(state);
      });
      state.running.add(run);
    }
  }

  async #run(state: QueueState, job: JobRecord, handler: JobHandler<unknown>): Promise<void> {
    job.status = 'active';
    const attempt = job.attemptsMade + 1;
    const logger = this.#logger.child({ queue: state.name, jobId: job.id, attempt });
    try {
      const result = await handler(JSON.parse(job.data), {
        id: job.id,
        queue: state.name,
        attempt,
        logger,
        signal: new AbortController().signal,
        updateProgress: async (progress) => {
          job.progress = JSON.stringify(progress);
        },
      });
      job.attemptsMade = attempt;
      job.returnValue = result == null ? undefined : JSON.stringify(result);
      this.#finish(state, job, 'completed');
    } catch (error) {
      job.attemptsMade = attempt;
      job.failedReason = errorMessage(error);
      if (attempt < job.attempts) {
        logger.warn({ err: error }, 'job failed; it will be retried');
        this.#later(state, job, backoffDelay(job.backoffMs, attempt));
      } else {
        logger.error({ err: error }, 'job failed for good');
        this.#finish(state, job, 'failed');
      }
    }
  }

  #finish(state: QueueState, job: JobRecord, status: 'completed' | 'failed'): void {
    job.status = status;
    state.live.delete(job.id);
    state.finished.set(job.id, job);
    for (const id of state.finished.keys()) {
      if (state.finished.size <= this.#keepFinished) break;
      state.finished.delete(id);
    }
  }
}
