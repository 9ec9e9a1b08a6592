import { MemoryRateLimiter } from '../../src/usage/rate-limiter.js';
import { rateLimiterContract } from './rate-limiter.contract.js';

/** One store for the whole file, as one process has: the contract's "several limiters" share it through this. */
const shared = new Map<() => number, MemoryRateLimiter>();

rateLimiterContract('in-process', (now) => {
  let limiter = shared.get(now);
  if (!limiter) shared.set(now, (limiter = new MemoryRateLimiter({ now })));
  return {
    hit: (r) => limiter.hit(r),
    add: (r, a) => limiter.add(r, a),
    peek: (r) => limiter.peek(r),
    forget: (k) => limiter.forget(k),
    close: async () => {},
  };
});
