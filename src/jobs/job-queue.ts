import type { Logger } from '../logger.js';

export interface JobOptions {
  /** Deterministic id: adding a job whose id exists (waiting, running or finished) does nothing. */
  jobId?: string;
  /** Tries in all, including the first (default 3). */
  attempts?: number;
  /** First retry delay; each further retry doubles it (default 1000 ms). */
  backoffMs?: number;
  delayMs?: number;
}

export interface JobContext {
  id: string;
  queue: string;
  /** 1 for the first try. */
  attempt: number;
  logger: Logger;
  /** Aborted when the job is cancelled or the worker must stop at once. */
  signal: AbortSignal;
  updateProgress(progress: number | Record<string, unknown>): Promise<void>;
}

export type JobHandler<T> = (data: T, context: JobContext) => Promise<unknown>;

export type JobStatus = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'unknown';

export interface JobInfo {
  id: string;
  status: JobStatus;
  attemptsMade: number;
  failedReason?: string;
  progress?: unknown;
  returnValue?: unknown;
}

/**
 * The one queue interface the rest of the code uses: BullMQ on Redis, or
 * in-process when there is no Redis.
 */
export interface JobQueue {
  add<T>(queue: string, data: T, options?: JobOptions): Promise<{ id: string }>;
  /** Starts consuming `queue` in this process. */
  process<T>(queue: string, handler: JobHandler<T>, options?: { concurrency?: number }): void;
  getJob(queue: string, id: string): Promise<JobInfo | undefined>;
  counts(queue: string): Promise<Record<JobStatus, number>>;
  /** Stops taking jobs, waits for the running ones, and closes connections. */
  close(): Promise<void>;
}

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 1000;

/** BullMQ keys use ':' as a separator, so job ids may not contain it. */
export function checkJobId(id: string): string {
  if (!id || id.includes(':') || /^\d+$/.test(id)) {
    throw new Error(`Job id "${id}" must be non-empty, not a plain number, and contain no ':'.`);
  }
  return id;
}

export function emptyCounts(): Record<JobStatus, number> {
  return { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, unknown: 0 };
}
