import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { RedisRateLimiter } from '../../src/usage/redis-rate-limiter.js';
import { rateLimiterContract } from './rate-limiter.contract.js';

const url = process.env.REDIS_URL;
const prefix = `dreamchat-test-usage-${randomBytes(4).toString('hex')}`;

/** Runs with REDIS_URL set (CI does); without Redis the in-process limiter is what the bot uses. */
describe.runIf(url)('RedisRateLimiter', () => {
  afterAll(async () => {
    const redis = new Redis(url!);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });
  rateLimiterContract('Redis', (now) => new RedisRateLimiter({ url: url!, logger: createLogger('silent'), prefix, now }));
});
