import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import {
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

export interface BullmqJobQueueOptions {
  url: string;
  logger: Logger;
  /** Redis key prefix (default "dreamchat"); tests use a random one each. */
  prefix?: string;
  /** A running job's lock, renewed at half this while it runs (default 30 s; JOB_LOCK_MS). */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired (default 30 s; JOB_LOCK_MS). */
  stalledIntervalMs?: number;
}

/** Finished jobs are kept this long so a repeated job id is recognised and not run again. */
const KEEP_COMPLETED = { age: 7 * 24 * 3600, count: 10_000 };
const KEEP_FAILED = { age: 30 * 24 * 3600, count: 10_000 };
/**
 * A job whose worker died or lost Redis for longer than the lock is put back
 * and run again, twice at most; a job that keeps killing its worker is failed.
 */
const MAX_STALLED_COUNT = 2;

/**
 * Jobs in Redis through BullMQ, shared by every process on the same Redis.
 * One Queue and one Worker per queue name, created once. Two connections:
 * the Queues' fails fast while Redis is down (add() and health checks answer
 * instead of hanging); the Workers' waits out a Redis restart.
 */
export class BullmqJobQueue implements JobQueue {
  readonly #url: string;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #lockDurationMs: number;
  readonly #stalledIntervalMs: number;
  readonly #connection: Redis;
  #workerConnection: Redis | undefined;
  readonly #queues = new Map<string, Queue>();
  readonly #workers = new Map<string, Worker>();
  #closing: Promise<void> | undefined;

  constructor(options: BullmqJobQueueOptions) {
    this.#url = options.url;
    this.#logger = options.logger.child({ component: 'queue' });
    this.#prefix = options.prefix ?? 'dreamchat';
    this.#lockDurationMs = options.lockDurationMs ?? 30_000;
    this.#stalledIntervalMs = options.stalledIntervalMs ?? 30_000;
    this.#connection = this.#connect('queue', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  }

  async add<T>(queue: string, data: T, options: JobOptions = {}): Promise<{ id: string }> {
    // Our own ids, never BullMQ's numbers, so every id goes through the same encoding.
    const id = options.jobId === undefined ? randomUUID() : checkJobId(options.jobId);
    await this.#queue(queue).add(queue, data, {
      jobId: encodeJobId(id),
      attempts: Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS),
      backoff: { type: 'exponential', delay: Math.max(0, options.backoffMs ?? DEFAULT_BACKOFF_MS) },
      delay: options.delayMs && options.delayMs > 0 ? options.delayMs : undefined,
      priority: checkPriority(options.priority) || undefined,
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    });
    return { id };
  }

  process<T>(queue: string, handler: JobHandler<T>, options: { concurrency?: number } = {}): void {
    checkQueueName(queue);
    if (this.#closing) throw new Error('The job queue is closed.');
    if (this.#workers.has(queue)) throw new Error(`Queue "${queue}" already has a worker in this process.`);
    this.#workerConnection ??= this.#connect('worker', { maxRetriesPerRequest: null });
    const worker = new Worker(
      queue,
      // Three declared parameters: BullMQ passes the AbortSignal only then.
      (job: Job, _token: string | undefined, signal: AbortSignal | undefined) => this.#run(queue, handler, job, signal),
      {
        connection: this.#workerConnection,
        prefix: this.#prefix,
        concurrency: Math.max(1, options.concurrency ?? 1),
        lockDuration: this.#lockDurationMs,
        stalledInterval: this.#stalledIntervalMs,
        maxStalledCount: MAX_STALLED_COUNT,
      },
    );
    worker.on('error', this.#onError('worker', queue));
    // The lock expired (Redis was away too long): the job will run again, so this run should stop.
    worker.on('lockRenewalFailed', (jobIds) => jobIds.forEach((jobId) => worker.cancelJob(jobId, 'lost the job lock')));
    worker.on('stalled', (jobId) =>
      this.#logger.warn({ queue, jobId: decodeJobId(jobId) }, 'job stalled (its worker stopped or lost Redis); it will run again'),
    );
    worker.on('failed', (job, error) => {
      const final = !job || job.attemptsMade >= (job.opts.attempts ?? 1);
      const fields = { err: error, queue, jobId: job?.id && decodeJobId(job.id), attemptsMade: job?.attemptsMade };
      if (final) this.#logger.error(fields, 'job failed for good');
      else this.#logger.warn(fields, 'job failed; it will be retried');
    });
    this.#workers.set(queue, worker);
  }

  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    if (!id) return undefined;
    const job = await this.#queue(queue).getJob(encodeJobId(id));
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
    const raw = await this.#queue(queue).getJobCounts(
      'waiting',
      'prioritized',
      'waiting-children',
      'delayed',
      'active',
      'completed',
      'failed',
    );
    const counts = emptyCounts();
    counts.waiting = (raw.waiting ?? 0) + (raw.prioritized ?? 0) + (raw['waiting-children'] ?? 0);
    counts.delayed = raw.delayed ?? 0;
    counts.active = raw.active ?? 0;
    counts.completed = raw.completed ?? 0;
    counts.failed = raw.failed ?? 0;
    return counts;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Workers first: each waits for its running jobs and takes no new ones.
    await this.#settle(
      'worker',
      [...this.#workers.values()].map((worker) => worker.close()),
    );
    await this.#settle(
      'queue',
      [...this.#queues.values()].map((queue) => queue.close()),
    );
    await this.#settle('connection', [this.#connection, this.#workerConnection].map(closeConnection));
  }

  async #settle(what: string, closing: Promise<unknown>[]): Promise<void> {
    for (const result of await Promise.allSettled(closing)) {
      if (result.status === 'rejected') this.#logger.warn({ err: result.reason }, `closing a ${what} failed`);
    }
  }

  async #run<T>(queue: string, handler: JobHandler<T>, job: Job, signal: AbortSignal | undefined): Promise<unknown> {
    const id = decodeJobId(job.id!);
    const attempt = job.attemptsMade + 1;
    try {
      return await handler(job.data as T, {
        id,
        queue,
        attempt,
        logger: this.#logger.child({ queue, jobId: id, attempt }),
        signal: signal ?? new AbortController().signal,
        updateProgress: (progress) => job.updateProgress(progress),
      });
    } catch (error) {
      // BullMQ reads error.message for failedReason; keep a thrown string too.
      throw error instanceof Error ? error : new Error(errorMessage(error));
    }
  }

  #queue(name: string): Queue {
    if (this.#closing) throw new Error('The job queue is closed.');
    let queue = this.#queues.get(name);
    if (!queue) {
      checkQueueName(name);
      queue = new Queue(name, { connection: this.#connection, prefix: this.#prefix });
      queue.on('error', this.#onError('queue', name));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Socket errors were already reported once by the connection (see #connect); anything else is news. */
  #onError(source: string, queue: string): (error: Error) => void {
    return (error) => {
      if (isConnectionError(error)) this.#logger.debug({ err: error, queue }, `${source} connection error`);
      else this.#logger.warn({ err: error, queue }, `${source} error`);
    };
  }

  /** Reconnects forever, at most 5 s apart; logs the first error of an outage and the recovery. */
  #connect(role: string, options: RedisOptions): Redis {
    const connection = new Redis(this.#url, {
      ...options,
      retryStrategy: (times) => Math.min(times * 200, 5_000),
      // After a failover the old primary answers READONLY: reconnect to find the new one.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    });
    let down = false;
    connection.on('error', (error) => {
      if (!down) this.#logger.warn({ err: error, connection: role }, 'Redis connection lost; reconnecting');
      else this.#logger.debug({ err: error, connection: role }, 'Redis still unreachable');
      down = true;
    });
    connection.on('ready', () => {
      if (down) this.#logger.info({ connection: role }, 'Redis connection back');
      down = false;
    });
    return connection;
  }
}

/**
 * BullMQ refuses ':' in job ids (its key separator) and integer ids (kept for
 * its own numbering). Escape '%' and ':', and mark integers with "%N", so
 * callers may use any string and get it back unchanged.
 */
export function encodeJobId(id: string): string {
  const escaped = id.replace(/[%:]/g, (char) => (char === '%' ? '%25' : '%3A'));
  return `${Number.parseInt(escaped, 10)}` === escaped ? `%N${escaped}` : escaped;
}

export function decodeJobId(stored: string): string {
  if (stored.startsWith('%N')) return stored.slice(2);
  return stored.replace(/%(25|3A)/g, (_match, code: string) => (code === '25' ? '%' : ':'));
}

const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

function isConnectionError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined && SOCKET_ERRORS.has(code)) || error.message.includes('Connection is closed');
}

async function closeConnection(connection: Redis | undefined): Promise<void> {
  if (!connection) return;
  // QUIT would wait for a Redis that is down; drop the socket instead.
  if (connection.status !== 'ready') return void connection.disconnect();
  await connection.quit().catch(() => connection.disconnect());
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
