import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { UsageBudget } from './budget.js';
import { MemoryRateLimiter, type RateLimiter } from './rate-limiter.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';
import { loadGuildSettings } from './server-limits.js';

/** The limiter every process shares through Redis when REDIS_URL is set, else this process's own. */
export function createUsageBudget(config: Config, logger: Logger, orm?: MikroORM): { budget: UsageBudget; limiter: RateLimiter } {
  const limiter = config.redis.url
    ? new RedisRateLimiter({ url: config.redis.url, logger, prefix: `${config.redis.prefix}:usage` })
    : new MemoryRateLimiter();
  const loadSettings = orm ? (discordGuildId: string) => loadGuildSettings(orm.em.fork(), discordGuildId) : undefined;
  return { budget: new UsageBudget({ limiter, limits: config.usage.limits, logger, loadSettings }), limiter };
}
