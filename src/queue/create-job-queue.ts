import type { Logger } from '../logger.js';
import { BullmqJobQueue } from './bullmq-queue.js';
import type { JobQueue } from './job-queue.js';
import { MemoryJobQueue } from './memory-queue.js';

/** BullMQ on Redis when a URL is given, otherwise jobs run in this process. */
export function createJobQueue(options: { redisUrl?: string; logger: Logger; prefix?: string; lockMs?: number }): JobQueue {
  return options.redisUrl
    ? new BullmqJobQueue({
        url: options.redisUrl,
        logger: options.logger,
        prefix: options.prefix,
        lockDurationMs: options.lockMs,
        stalledIntervalMs: options.lockMs,
      })
    : new MemoryJobQueue({ logger: options.logger });
}
