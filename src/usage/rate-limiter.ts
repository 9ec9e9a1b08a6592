/**
 * Counters over fixed time windows, shared by every process that uses the same
 * store. One algorithm, two stores: Redis (RedisRateLimiter, one Lua script
 * per call) and this process's memory (MemoryRateLimiter), with identical
 * semantics; test/usage/rate-limiter.contract.ts holds both to them.
 *
 * Algorithm: fixed windows aligned to the clock. A rule's window is
 * [floor(now / windowMs) * windowMs, + windowMs): minute windows start on the
 * minute, day windows at 00:00 UTC. Its counter lives under
 * `<key>:<window start>` and expires when the window ends, so nothing is ever
 * swept by hand. A burst straddling two windows can reach twice the limit of
 * one; for a spam guard and a daily budget that is the right trade for one
 * integer per window (a sliding log would keep one entry per message).
 */
export interface LimitRule {
  /** What is counted, e.g. `user:123:messages`. */
  key: string;
  /** The most the window may count; 0 means unlimited (never refuses, still counts). */
  limit: number;
  windowMs: number;
  /**
   * What this attempt adds. A rule with cost c admits while used + c <= limit;
   * a rule with cost 0 only checks that the window is not used up (used < limit).
   */
  cost: number;
}

export interface RuleState {
  key: string;
  used: number;
  limit: number;
  /** When the current window ends (epoch ms). */
  resetAt: number;
}

export type LimitDecision =
  | { allowed: true }
  /** `rule` is the first rule that refused; nothing was counted. */
  | { allowed: false; rule: RuleState };

export interface RateLimiter {
  /**
   * All or nothing, atomically across processes: when every rule admits, adds
   * each rule's cost; otherwise adds nothing and says which rule refused.
   */
  hit(rules: LimitRule[]): Promise<LimitDecision>;
  /** Adds `amount` to each key's current window without checking (tokens spent after a reply). */
  add(rules: Omit<LimitRule, 'cost' | 'limit'>[], amount: number): Promise<void>;
  /** The current windows' counts, without changing them. */
  peek(rules: Omit<LimitRule, 'cost'>[]): Promise<RuleState[]>;
  /** Deletes every window's counter of these keys (a person who deleted their data); returns how many there were. */
  forget(keys: string[]): Promise<number>;
  close(): Promise<void>;
}

/** The window `now` falls in, for a rule of this length. */
export function windowOf(now: number, windowMs: number): { start: number; end: number } {
  const start = Math.floor(now / windowMs) * windowMs;
  return { start, end: start + windowMs };
}

/** Whether a rule with `used` already counted admits one more attempt of its cost. */
function admits(used: number, rule: Pick<LimitRule, 'limit' | 'cost'>): boolean {
  return rule.limit <= 0 || used + Math.max(rule.cost, 1) <= rule.limit;
}

/** The in-process store: for one process without Redis. Each call runs to completion synchronously, so it is atomic. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #now: () => number;
  readonly #counters = new Map<string, { used: number; expiresAt: number }>();
  #lastSweep = 0;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async hit(rules: LimitRule[]): Promise<LimitDecision> {
    const now = this.#now();
    this.#sweep(now);
    const states = rules.map((rule) => ({ rule, ...this.#counter(rule, now) }));
    for (const { rule, used, end } of states) {
      if (!admits(used, rule)) return { allowed: false, rule: { key: rule.key, used, limit: rule.limit, resetAt: end } };
    }
    for (const { rule, name, used, end } of states) {
      if (rule.cost > 0) this.#counters.set(name, { used: used + rule.cost, expiresAt: end });
    }
    return { allowed: true };
  }

  async add(rules: Omit<LimitRule, 'cost' | 'limit'>[], amount: number): Promise<void> {
    const now = this.#now();
    for (const rule of rules) {
      const { name, used, end } = this.#counter(rule, now);
      if (amount > 0) this.#counters.set(name, { used: used + amount, expiresAt: end });
    }
  }

  async peek(rules: Omit<LimitRule, 'cost'>[]): Promise<RuleState[]> {
    const now = this.#now();
    return rules.map((rule) => {
      const { used, end } = this.#counter(rule, now);
      return { key: rule.key, used, limit: rule.limit, resetAt: end };
    });
  }

  async forget(keys: string[]): Promise<number> {
    let deleted = 0;
    for (const name of this.#counters.keys()) {
      if (keys.some((key) => name.startsWith(`${key}:`) && /^\d+$/.test(name.slice(key.length + 1)))) {
        this.#counters.delete(name);
        deleted += 1;
      }
    }
    return deleted;
  }

  async close(): Promise<void> {
    this.#counters.clear();
  }

  #counter(rule: Pick<LimitRule, 'key' | 'windowMs'>, now: number) {
    const { start, end } = windowOf(now, rule.windowMs);
    const name = `${rule.key}:${start}`;
    const counter = this.#counters.get(name);
    return { name, end, used: counter && counter.expiresAt > now ? counter.used : 0 };
  }

  /** Ended windows are dropped at most once a minute. */
  #sweep(now: number): void {
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [name, counter] of this.#counters) if (counter.expiresAt <= now) this.#counters.delete(name);
  }
}
