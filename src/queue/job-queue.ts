import type { Logger } from '../logger.js';

export interface JobOptions {
  /**
   * Deterministic id. Adding a job whose id already exists in that queue
   * (waiting, running, or finished and still remembered) does nothing. Any
   * non-empty string works, ':' and digits-only ids included.
   */
  jobId?: string;
  /** Tries in all, counting the first (default 3). */
  attempts?: number;
  /** Delay before the first retry; each further retry doubles it (default 1000 ms). */
  backoffMs?: number;
  /** Wait this long before the first try. */
  delayMs?: number;
  /**
   * Lower runs sooner (1 to 2 097 151, as BullMQ counts). A job without one goes
   * before every job with one; among jobs of equal priority the one added (or put
   * back after a failed try) first runs first. Callers use it for fair shares: a
   * job's priority is how many jobs its server already has, so one server's
   * backlog waits behind another's first job.
   */
  priority?: number;
}

export interface JobContext {
  id: string;
  queue: string;
  /** 1 for the first try, 2 for the first retry, and so on. */
  attempt: number;
  /** Carries queue, jobId and attempt. */
  logger: Logger;
  /**
   * Aborted when this run should stop because the job will run again anyway
   * (on Redis: the worker lost the job's lock during an outage). Pass it to
   * long calls (fetch, SDK streams).
   */
  signal: AbortSignal;
  updateProgress(progress: number | Record<string, unknown>): Promise<void>;
}

/**
 * Does the work. Data arrives as JSON would carry it (a Date becomes a string).
 * A throw fails this try; the job is retried until its attempts are used up.
 */
export type JobHandler<T> = (data: T, context: JobContext) => Promise<unknown>;

export type JobStatus = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'unknown';

export interface JobInfo {
  id: string;
  status: JobStatus;
  /** Tries that ended, in success or failure. */
  attemptsMade: number;
  /** The error message of the latest failed try. */
  failedReason?: string;
  /** The latest updateProgress() value; 0 before any. */
  progress?: unknown;
  /** What the handler returned, as JSON would carry it. */
  returnValue?: unknown;
}

/**
 * The one queue interface the rest of the code uses: BullMQ on Redis, or
 * in-process when there is no Redis. Both pass test/queue/job-queue.contract.ts.
 */
export interface JobQueue {
  add<T>(queue: string, data: T, options?: JobOptions): Promise<{ id: string }>;
  /** Starts consuming `queue` in this process; once per queue name. */
  process<T>(queue: string, handler: JobHandler<T>, options?: { concurrency?: number }): void;
  getJob(queue: string, id: string): Promise<JobInfo | undefined>;
  /** Jobs per status, for queue depth metrics and health checks. */
  counts(queue: string): Promise<Record<JobStatus, number>>;
  /** Stops taking jobs, waits for the running ones, then closes connections. Safe to call twice. */
  close(): Promise<void>;
}

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 1000;

/** Queue names become part of Redis keys, where ':' is the separator. */
export function checkQueueName(name: string): string {
  if (!name || name.includes(':')) throw new Error(`Queue name "${name}" must be non-empty and contain no ':'.`);
  return name;
}

export function checkJobId(id: string): string {
  if (typeof id !== 'string' || id === '') throw new Error('A job id must be a non-empty string.');
  return id;
}

/** Delay before the next try, after `attemptsMade` failed ones: base, 2 × base, 4 × base… */
export function backoffDelay(baseMs: number, attemptsMade: number): number {
  return Math.round(baseMs * 2 ** (attemptsMade - 1));
}

/** BullMQ 6 takes priorities up to 2^21 − 1. */
const MAX_PRIORITY = 2 ** 21 - 1;

/** 0 for none; otherwise a whole number from 1 to MAX_PRIORITY, the nearest to what was asked. */
export function checkPriority(priority: number | undefined): number {
  if (priority === undefined || !Number.isFinite(priority) || priority <= 0) return 0;
  return Math.min(MAX_PRIORITY, Math.max(1, Math.round(priority)));
}

export function emptyCounts(): Record<JobStatus, number> {
  return { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, unknown: 0 };
}

/** The message kept as failedReason, for Error and non-Error throws alike. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
