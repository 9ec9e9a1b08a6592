import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe } from 'vitest';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.js';
import { createLogger } from '../../src/logger.js';
import { jobQueueContract } from './job-queue.contract.js';

const url = process.env.REDIS_URL;

/** Runs with REDIS_URL set (CI does); without Redis the in-process queue is what the bot uses. */
describe.runIf(url)('BullMQ on Redis', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    const redis = new Redis(url!);
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
    await redis.quit();
  });

  jobQueueContract('BullMQ', () => {
    const prefix = `dreamchat-test-${randomBytes(4).toString('hex')}`;
    prefixes.push(prefix);
    return new BullmqJobQueue({ url: url!, logger: createLogger('silent'), prefix });
  });
});
