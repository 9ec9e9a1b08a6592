import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../src/usage/rate-limiter.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** 2030-01-01T23:59:00Z: a minute before a UTC day ends. */
const START = Date.UTC(2030, 0, 1, 23, 59, 0);

/**
 * The behaviour every RateLimiter must have; each implementation's test file
 * runs it. `create` gets the clock to use; `several` makes limiters that share
 * one store, as separate processes would.
 */
export function rateLimiterContract(name: string, create: (now: () => number) => RateLimiter): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let now = START;
    const clock = () => now;
    let limiter: RateLimiter;
    const opened: RateLimiter[] = [];
    const open = () => {
      const made = create(clock);
      opened.push(made);
      return made;
    };
    let n = 0;
    /** Keys of their own for each test, so stores shared between tests do not matter. */
    let key: (what: string) => string;
    beforeEach(() => {
      now = START;
      limiter = open();
      const run = `${Date.now()}-${++n}`;
      key = (what) => `${run}:${what}`;
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((made) => made.close()));
    });

    it('admits up to the limit, then refuses without counting, with the end of the window', async () => {
      const rule = { key: key('m'), limit: 3, windowMs: MINUTE, cost: 1 };
      for (let i = 0; i < 3; i++) expect(await limiter.hit([rule])).toEqual({ allowed: true });
      now += 20_000;
      const refused = await limiter.hit([rule]);
      expect(refused).toEqual({ allowed: false, rule: { key: rule.key, used: 3, limit: 3, resetAt: Date.UTC(2030, 0, 2) } });
      expect(await limiter.hit([rule])).toMatchObject({ allowed: false, rule: { used: 3 } });
      expect(await limiter.peek([rule])).toEqual([{ key: rule.key, used: 3, limit: 3, resetAt: Date.UTC(2030, 0, 2) }]);
    });

    it('starts a new window on the minute, and a day window at 00:00 UTC', async () => {
      const minute = { key: key('m'), limit: 1, windowMs: MINUTE, cost: 1 };
      const day = { key: key('t'), limit: 100, windowMs: DAY, cost: 0 };
      expect(await limiter.hit([minute, day])).toEqual({ allowed: true });
      await limiter.add([day], 100);
      expect(await limiter.hit([minute])).toMatchObject({ allowed: false });
      now = START + 59_999;
      expect(await limiter.hit([day])).toMatchObject({ allowed: false, rule: { used: 100, resetAt: Date.UTC(2030, 0, 2) } });
      now = START + MINUTE; // 00:00 UTC: both windows are new
      expect(await limiter.hit([minute, day])).toEqual({ allowed: true });
      expect(await limiter.peek([day])).toEqual([{ key: day.key, used: 0, limit: 100, resetAt: Date.UTC(2030, 0, 3) }]);
      now += 12 * 3600_000;
      expect(await limiter.peek([minute])).toMatchObject([{ used: 0 }]);
    });

    it('is all or nothing: when one rule refuses, no rule counts the attempt', async () => {
      const user = { key: key('user'), limit: 5, windowMs: MINUTE, cost: 1 };
      const server = { key: key('server'), limit: 1, windowMs: MINUTE, cost: 1 };
      expect(await limiter.hit([user, server])).toEqual({ allowed: true });
      expect(await limiter.hit([user, server])).toMatchObject({ allowed: false, rule: { key: server.key, used: 1 } });
      expect((await limiter.peek([user, server])).map((state) => state.used)).toEqual([1, 1]);
    });

    it('checks a cost-0 rule against what was added, and counts without checking when the limit is 0', async () => {
      const tokens = { key: key('tokens'), limit: 1000, windowMs: DAY, cost: 0 };
      await limiter.add([tokens], 999);
      expect(await limiter.hit([tokens])).toEqual({ allowed: true });
      await limiter.add([tokens], 400); // the reply that crosses the line is counted in full
      expect(await limiter.hit([tokens])).toMatchObject({ allowed: false, rule: { used: 1399, limit: 1000 } });
      const unlimited = { key: key('free'), limit: 0, windowMs: MINUTE, cost: 1 };
      for (let i = 0; i < 5; i++) expect(await limiter.hit([unlimited])).toEqual({ allowed: true });
      expect(await limiter.peek([unlimited])).toMatchObject([{ used: 5 }]);
      await limiter.add([tokens], 0);
      expect(await limiter.peek([tokens])).toMatchObject([{ used: 1399 }]);
    });

    it('keeps keys apart', async () => {
      const a = { key: key('a'), limit: 1, windowMs: MINUTE, cost: 1 };
      const b = { key: key('b'), limit: 1, windowMs: MINUTE, cost: 1 };
      expect(await limiter.hit([a])).toEqual({ allowed: true });
      expect(await limiter.hit([b])).toEqual({ allowed: true });
      expect(await limiter.hit([a])).toMatchObject({ allowed: false });
    });

    it('forgets every window of the given keys, and nothing else', async () => {
      const messages = { key: key('user:42:messages'), limit: 1, windowMs: MINUTE, cost: 1 };
      const tokens = { key: key('user:42:tokens'), limit: 100, windowMs: DAY };
      const longer = { key: key('user:421:messages'), limit: 1, windowMs: MINUTE, cost: 1 };
      expect(await limiter.hit([messages, longer])).toEqual({ allowed: true });
      now += MINUTE;
      expect(await limiter.hit([messages])).toEqual({ allowed: true });
      await limiter.add([tokens], 60);
      expect(await limiter.forget([messages.key, tokens.key])).toBe(3);
      expect((await limiter.peek([messages, tokens])).map((state) => state.used)).toEqual([0, 0]);
      now -= MINUTE;
      expect((await limiter.peek([messages, longer])).map((state) => state.used)).toEqual([0, 1]);
      expect(await limiter.forget([key('nobody')])).toBe(0);
    });

    it('admits exactly the limit among many parallel checks from several limiters on one store', async () => {
      const limiters = [limiter, open(), open(), open()];
      const user = { key: key('burst'), limit: 10, windowMs: MINUTE, cost: 1 };
      const server = { key: key('burst-server'), limit: 1000, windowMs: MINUTE, cost: 1 };
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => limiters[i % limiters.length]!.hit([server, user])));
      expect(results.filter((result) => result.allowed)).toHaveLength(10);
      expect((await limiter.peek([user, server])).map((state) => state.used)).toEqual([10, 10]);
    });
  });
}
