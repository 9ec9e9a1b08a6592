import { createHash } from 'node:crypto';

/** A fixed-window bucket: `limit` calls per `windowMs`. */
export interface BucketRule {
  limit: number;
  windowMs: number;
}

/**
 * 'discord': limits bots commonly observe (5 creates/5 s per channel, 5/2 s
 * per webhook, 50/s otherwise). 'relaxed': the same headers with 100× the
 * limits. A record: 'discord' with these rules (keyed 'METHOD /route') on top.
 */
export type RateLimitMode = 'discord' | 'relaxed' | Record<string, BucketRule>;

/** A scripted failure: the next `times` calls matching method/route/path answer with `status`. */
export interface FailureRule {
  method?: string;
  /** A route as recorded, e.g. '/channels/:channelId/messages'. */
  route?: string;
  /** An exact path below /api/v10, e.g. '/channels/123/messages'. */
  path?: string;
  match?: (request: { method: string; route: string; path: string; query: Record<string, string> }) => boolean;
  /** 429 for a rate limit, 5xx for an outage, or any 4xx with code/message. */
  status: number;
  /** Seconds, for 429 (default 1). Sent in `retry-after` and the JSON `retry_after`. */
  retryAfter?: number;
  /** A global rate limit (`x-ratelimit-global: true`, scope 'global'). */
  global?: boolean;
  scope?: 'user' | 'shared' | 'global';
  /** Discord error code and message for 4xx (default 0 and 'status: text'). */
  code?: number;
  message?: string;
  /** Replace the JSON body entirely. */
  body?: unknown;
  headers?: Record<string, string>;
  /** How many matching calls fail (default 1). */
  times?: number;
}

export interface LimitDecision {
  headers: Record<string, string>;
  /** Set when the call went over its bucket: answer 429 with this many ms to wait. */
  retryAfterMs?: number;
  global?: boolean;
}

const DISCORD_RULES: Record<string, BucketRule> = {
  'POST /channels/:channelId/messages': { limit: 5, windowMs: 5000 },
  'PATCH /channels/:channelId/messages/:messageId': { limit: 5, windowMs: 5000 },
  'DELETE /channels/:channelId/messages/:messageId': { limit: 5, windowMs: 1000 },
  'POST /channels/:channelId/typing': { limit: 5, windowMs: 5000 },
  'POST /channels/:channelId/webhooks': { limit: 5, windowMs: 5000 },
  'POST /channels/:channelId/threads': { limit: 5, windowMs: 5000 },
  'POST /channels/:channelId/messages/:messageId/threads': { limit: 5, windowMs: 5000 },
  'POST /webhooks/:webhookId/:token': { limit: 5, windowMs: 2000 },
  'PATCH /webhooks/:webhookId/:token/messages/:messageId': { limit: 5, windowMs: 2000 },
  'DELETE /webhooks/:webhookId/:token/messages/:messageId': { limit: 5, windowMs: 2000 },
};
const DEFAULT_RULE: BucketRule = { limit: 50, windowMs: 1000 };

interface BucketState {
  count: number;
  resetAt: number;
}

/** Per-route buckets with Discord's headers, plus scripted failures (failNext). */
export class RateLimiter {
  readonly #rules: Record<string, BucketRule>;
  readonly #relaxed: boolean;
  readonly #buckets = new Map<string, BucketState>();
  readonly #failures: (FailureRule & { left: number })[] = [];
  #globalResetAt = 0;

  constructor(mode: RateLimitMode = 'discord') {
    this.#relaxed = mode === 'relaxed';
    this.#rules = typeof mode === 'object' ? { ...DISCORD_RULES, ...mode } : DISCORD_RULES;
  }

  failNext(rule: FailureRule): void {
    this.#failures.push({ ...rule, left: rule.times ?? 1 });
  }

  /** Failures scripted but not yet used. */
  pendingFailures(): number {
    return this.#failures.reduce((sum, rule) => sum + rule.left, 0);
  }

  /** The scripted failure for this call, if any (and uses it up). */
  takeFailure(request: { method: string; route: string; path: string; query: Record<string, string> }): FailureRule | undefined {
    const index = this.#failures.findIndex(
      (rule) =>
        (!rule.method || rule.method.toUpperCase() === request.method) &&
        (!rule.route || rule.route === request.route) &&
        (!rule.path || rule.path === request.path) &&
        (!rule.match || rule.match(request)),
    );
    if (index < 0) return undefined;
    const rule = this.#failures[index]!;
    if (--rule.left <= 0) this.#failures.splice(index, 1);
    return rule;
  }

  /** Counts a call against its bucket; says whether it went over. */
  consume(method: string, route: string, major: string, options: { exemptFromGlobal: boolean }): LimitDecision {
    const now = Date.now();
    if (!options.exemptFromGlobal && now < this.#globalResetAt) {
      return {
        headers: { 'x-ratelimit-global': 'true', 'x-ratelimit-scope': 'global' },
        retryAfterMs: this.#globalResetAt - now,
        global: true,
      };
    }
    const rule = this.#rule(method, route);
    const key = `${method} ${route}:${major}`;
    let state = this.#buckets.get(key);
    if (!state || state.resetAt <= now) this.#buckets.set(key, (state = { count: 0, resetAt: now + rule.windowMs }));
    if (state.count >= rule.limit) {
      return {
        headers: { ...this.#headers(method, route, rule, 0, state.resetAt), 'x-ratelimit-scope': 'user' },
        retryAfterMs: state.resetAt - now,
      };
    }
    state.count++;
    return { headers: this.#headers(method, route, rule, rule.limit - state.count, state.resetAt) };
  }

  /** Status, headers and body for a scripted failure; a 429 also blocks its bucket until retry_after passes. */
  failureResponse(
    rule: FailureRule,
    method: string,
    route: string,
    major: string,
  ): { status: number; headers: Record<string, string>; body: unknown } {
    if (rule.status !== 429) {
      const text = rule.status >= 500 ? 'Internal Server Error' : 'Error';
      const body = rule.body ?? { message: rule.message ?? `${rule.status}: ${text}`, code: rule.code ?? 0 };
      return { status: rule.status, headers: { ...rule.headers }, body };
    }
    const retryAfter = rule.retryAfter ?? 1;
    const global = rule.global ?? rule.scope === 'global';
    const resetAt = Date.now() + retryAfter * 1000;
    const headers: Record<string, string> = { 'retry-after': String(retryAfter) };
    if (global) {
      this.#globalResetAt = resetAt;
      Object.assign(headers, { 'x-ratelimit-global': 'true', 'x-ratelimit-scope': 'global' });
    } else {
      const bucketRule = this.#rule(method, route);
      this.#buckets.set(`${method} ${route}:${major}`, { count: bucketRule.limit, resetAt });
      Object.assign(headers, this.#headers(method, route, bucketRule, 0, resetAt), { 'x-ratelimit-scope': rule.scope ?? 'user' });
    }
    const body = rule.body ?? { message: 'You are being rate limited.', retry_after: retryAfter, global, code: 0 };
    return { status: 429, headers: { ...headers, ...rule.headers }, body };
  }

  /** Answer for a call over its bucket (no script): Discord's 429. */
  limitedResponse(decision: LimitDecision): { status: number; headers: Record<string, string>; body: unknown } {
    const retryAfter = Math.ceil(decision.retryAfterMs!) / 1000;
    return {
      status: 429,
      headers: { ...decision.headers, 'retry-after': String(retryAfter) },
      body: { message: 'You are being rate limited.', retry_after: retryAfter, global: Boolean(decision.global), code: 0 },
    };
  }

  #rule(method: string, route: string): BucketRule {
    const rule = this.#rules[`${method} ${route}`] ?? DEFAULT_RULE;
    return this.#relaxed ? { limit: rule.limit * 100, windowMs: rule.windowMs } : rule;
  }

  #headers(method: string, route: string, rule: BucketRule, remaining: number, resetAt: number): Record<string, string> {
    return {
      'x-ratelimit-limit': String(rule.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': (resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': (Math.max(0, resetAt - Date.now()) / 1000).toFixed(3),
      'x-ratelimit-bucket': createHash('sha1').update(`${method} ${route}`).digest('hex').slice(0, 32),
    };
  }
}
