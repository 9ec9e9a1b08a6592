import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { windowOf, type LimitDecision, type LimitRule, type RateLimiter, type RuleState } from './rate-limiter.js';

/**
 * KEYS: one counter per rule (its current window). ARGV: limit, cost, expire-at (ms) per rule.
 * Reads every counter, refuses with the first rule that would go over, else adds every cost.
 * Returns {0} when admitted, {i, used} when rule i (1-based) refused.
 */
const HIT = `
for i = 1, #KEYS do
  local limit = tonumber(ARGV[i * 3 - 2])
  local need = math.max(tonumber(ARGV[i * 3 - 1]), 1)
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if limit > 0 and used + need > limit then return {i, used} end
end
for i = 1, #KEYS do
  local cost = tonumber(ARGV[i * 3 - 1])
  if cost > 0 then
    redis.call('INCRBY', KEYS[i], cost)
    redis.call('PEXPIREAT', KEYS[i], ARGV[i * 3])
  end
end
return {0}
`;

/** KEYS: counters. ARGV[1]: amount; ARGV[1 + i]: expire-at of key i. */
const ADD = `
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[1])
  redis.call('PEXPIREAT', KEYS[i], ARGV[i + 1])
end
return 0
`;

/** Counters outlive their window by this much, so a process with a slightly slow clock still finds them. */
const EXPIRY_SLACK_MS = 5_000;

type Scripted = Redis & {
  usageHit(count: number, ...args: (string | number)[]): Promise<number[]>;
  usageAdd(count: number, ...args: (string | number)[]): Promise<number>;
};

/**
 * The limiter every process shares through Redis: one Lua script per check,
 * so concurrent checks from any number of workers never admit more than the
 * limit. Windows are computed from the caller's clock (`now`), which hosts
 * keep in step with NTP; tests move it by hand.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Scripted;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(options: { url: string; logger: Logger; prefix?: string; now?: () => number }) {
    this.#prefix = options.prefix ?? 'dreamchat:usage';
    this.#now = options.now ?? Date.now;
    // A check waits for the connection briefly (at start-up), but never hangs a reply while Redis is down.
    const redis = new Redis(options.url, {
      commandTimeout: 1_000,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 200, 5_000),
    });
    let down = false;
    redis.on('error', (error) => {
      if (!down) options.logger.warn({ err: error }, 'usage limiter lost Redis; replies are not limited until it is back');
      down = true;
    });
    redis.on('ready', () => (down = false));
    redis.defineCommand('usageHit', { lua: HIT });
    redis.defineCommand('usageAdd', { lua: ADD });
    this.#redis = redis as Scripted;
  }

  async hit(rules: LimitRule[]): Promise<LimitDecision> {
    if (!rules.length) return { allowed: true };
    const now = this.#now();
    const windows = rules.map((rule) => windowOf(now, rule.windowMs));
    const keys = rules.map((rule, i) => this.#name(rule.key, windows[i]!.start));
    const args = rules.flatMap((rule, i) => [rule.limit, Math.round(rule.cost), windows[i]!.end + EXPIRY_SLACK_MS]);
    const [index = 0, used = 0] = await this.#redis.usageHit(keys.length, ...keys, ...args);
    if (index === 0) return { allowed: true };
    const rule = rules[index - 1]!;
    return { allowed: false, rule: { key: rule.key, used, limit: rule.limit, resetAt: windows[index - 1]!.end } };
  }

  async add(rules: Omit<LimitRule, 'cost' | 'limit'>[], amount: number): Promise<void> {
    const rounded = Math.round(amount);
    if (!rules.length || rounded <= 0) return;
    const now = this.#now();
    const windows = rules.map((rule) => windowOf(now, rule.windowMs));
    const keys = rules.map((rule, i) => this.#name(rule.key, windows[i]!.start));
    await this.#redis.usageAdd(keys.length, ...keys, rounded, ...windows.map((w) => w.end + EXPIRY_SLACK_MS));
  }

  async peek(rules: Omit<LimitRule, 'cost'>[]): Promise<RuleState[]> {
    if (!rules.length) return [];
    const now = this.#now();
    const windows = rules.map((rule) => windowOf(now, rule.windowMs));
    const values = await this.#redis.mget(...rules.map((rule, i) => this.#name(rule.key, windows[i]!.start)));
    return rules.map((rule, i) => ({ key: rule.key, used: Number(values[i] ?? 0), limit: rule.limit, resetAt: windows[i]!.end }));
  }

  async forget(keys: string[]): Promise<number> {
    let deleted = 0;
    for (const key of keys) {
      // Windows are `<prefix>:<key>:<start>`; SCAN finds them without blocking Redis (glob characters escaped).
      const base = `${this.#prefix}:${key}:`;
      const pattern = `${base.replace(/[*?[\]\\]/g, '\\$&')}*`;
      let cursor = '0';
      do {
        const [next, found] = await this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        const windows = found.filter((name) => /^\d+$/.test(name.slice(base.length)));
        if (windows.length) deleted += await this.#redis.unlink(...windows);
        cursor = next;
      } while (cursor !== '0');
    }
    return deleted;
  }

  async close(): Promise<void> {
    if (this.#redis.status !== 'ready') return void this.#redis.disconnect();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #name(key: string, windowStart: number): string {
    return `${this.#prefix}:${key}:${windowStart}`;
  }
}
