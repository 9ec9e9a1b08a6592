import type { Actor } from '../core/identity.js';
import type { Logger } from '../logger.js';
import type { LimitRule, RateLimiter, RuleState } from './rate-limiter.js';

/** Limits per person and per server; 0 is unlimited. */
export interface UsageLimits {
  userMessagesPerMinute: number;
  userTokensPerDay: number;
  serverMessagesPerMinute: number;
  serverTokensPerDay: number;
}

export const LIMIT_NAMES = ['userMessagesPerMinute', 'userTokensPerDay', 'serverMessagesPerMinute', 'serverTokensPerDay'] as const;

const MINUTE = 60_000;
const DAY = 86_400_000;

/** What the responder needs: a check before each reply attempt, and the tokens it spent after. */
export interface ReplyBudget {
  /** Counts one reply attempt for this person (and server); over a limit, returns the polite refusal and counts nothing. */
  admit(actor: Actor): Promise<string | undefined>;
  /** Adds a finished reply's tokens to today's budgets. */
  spend(actor: Actor, tokens: number): Promise<void>;
}

export interface LimitState extends RuleState {
  name: (typeof LIMIT_NAMES)[number];
}

/**
 * The operator's limits (lowered per server by its admins, in
 * guilds.settings.usage) enforced through a RateLimiter. Messages per minute
 * count reply attempts (regenerate and continue too); tokens per day are
 * checked against what finished replies already used, and a reply's tokens
 * are added once it is done, so the reply that crosses the line still
 * completes and the next one is refused. A limiter that cannot be reached
 * (Redis down) lets replies through and says so in the log.
 */
export class UsageBudget implements ReplyBudget {
  readonly #limiter: RateLimiter;
  readonly #limits: UsageLimits;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #loadSettings?: (discordGuildId: string) => Promise<Record<string, unknown> | undefined>;
  /** Servers' own limits, read at most once a minute per process. */
  readonly #servers = new Map<string, { at: number; limits: Partial<UsageLimits> }>();

  constructor(options: {
    limiter: RateLimiter;
    limits: UsageLimits;
    logger: Logger;
    now?: () => number;
    /** Reads a server's guilds.settings; without it, the actor's loaded guild row is used. */
    loadSettings?: (discordGuildId: string) => Promise<Record<string, unknown> | undefined>;
  }) {
    this.#limiter = options.limiter;
    this.#limits = options.limits;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#loadSettings = options.loadSettings;
  }

  /** A server's limits changed (here): read them again on its next reply. Other processes see it within a minute. */
  forgetServer(discordGuildId: string): void {
    this.#servers.delete(discordGuildId);
  }

  /** Drops a person's counters in every window (they deleted their data): nothing keyed by them stays. */
  async forgetUser(discordUserId: string): Promise<void> {
    const user = userKey(discordUserId);
    await this.#limiter.forget([`${user}:messages`, `${user}:tokens`]);
  }

  async admit(actor: Actor): Promise<string | undefined> {
    const order = ['userMessagesPerMinute', 'serverMessagesPerMinute', 'userTokensPerDay', 'serverTokensPerDay'] as const;
    try {
      const rules = await this.#rules(actor);
      const checked = order.flatMap((name) => {
        const rule = rules[name];
        return rule ? [{ ...rule, cost: name.endsWith('PerMinute') ? 1 : 0 }] : [];
      });
      const decision = await this.#limiter.hit(checked);
      if (decision.allowed) return undefined;
      const name = order.find((n) => rules[n]?.key === decision.rule.key)!;
      return refusal(name, decision.rule, this.#now());
    } catch (error) {
      this.#logger.warn({ err: error }, 'usage limits could not be checked; the reply goes ahead');
      return undefined;
    }
  }

  async spend(actor: Actor, tokens: number): Promise<void> {
    await (async () => {
      const rules = await this.#rules(actor);
      const daily = [rules.userTokensPerDay, rules.serverTokensPerDay].filter((rule) => rule !== undefined);
      await this.#limiter.add(daily, tokens);
    })().catch((error: unknown) => {
      this.#logger.warn({ err: error, tokens }, 'could not count a reply’s tokens against the daily limits');
    });
  }

  /** The person's (and, with `server`, the server's) current windows, for /usage. */
  async state(actor: Actor, options: { server?: boolean } = {}): Promise<LimitState[]> {
    const rules = await this.#rules(actor);
    const names = LIMIT_NAMES.filter((name) => rules[name] && (options.server || name.startsWith('user')));
    const states = await this.#limiter.peek(names.map((name) => rules[name]!));
    return states.map((state, i) => ({ ...state, name: names[i]! }));
  }

  /** The limits that apply in this actor's server: the operator's, or lower where its admins set lower. */
  async limitsFor(actor: Actor): Promise<UsageLimits> {
    const own = await this.#serverLimits(actor);
    const lower = (operator: number, server: number | undefined) =>
      !server || server <= 0 ? operator : operator <= 0 ? server : Math.min(operator, server);
    return Object.fromEntries(LIMIT_NAMES.map((name) => [name, lower(this.#limits[name], own[name])])) as unknown as UsageLimits;
  }

  async #serverLimits(actor: Actor): Promise<Partial<UsageLimits>> {
    if (!actor.guild) return {};
    if (!this.#loadSettings) return serverLimits(actor.guild.settings);
    const id = actor.guild.discordId;
    const cached = this.#servers.get(id);
    if (cached && this.#now() - cached.at < 60_000) return cached.limits;
    const limits = serverLimits(await this.#loadSettings(id));
    if (this.#servers.size > 10_000) this.#servers.clear();
    this.#servers.set(id, { at: this.#now(), limits });
    return limits;
  }

  async #rules(actor: Actor): Promise<Partial<Record<(typeof LIMIT_NAMES)[number], Omit<LimitRule, 'cost'>>>> {
    const limits = await this.limitsFor(actor);
    const user = userKey(actor.user.discordId);
    const server = actor.guild ? `guild:${actor.guild.discordId}` : undefined;
    return {
      userMessagesPerMinute: { key: `${user}:messages`, limit: limits.userMessagesPerMinute, windowMs: MINUTE },
      userTokensPerDay: { key: `${user}:tokens`, limit: limits.userTokensPerDay, windowMs: DAY },
      ...(server
        ? {
            serverMessagesPerMinute: { key: `${server}:messages`, limit: limits.serverMessagesPerMinute, windowMs: MINUTE },
            serverTokensPerDay: { key: `${server}:tokens`, limit: limits.serverTokensPerDay, windowMs: DAY },
          }
        : {}),
    };
  }
}

/** A server's own lower limits, as stored by `/usage limits`. */
function userKey(discordUserId: string): string {
  return `user:${discordUserId}`;
}

export function serverLimits(settings: Record<string, unknown> | null | undefined): Partial<UsageLimits> {
  const stored = (settings?.usage ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    LIMIT_NAMES.flatMap((name) => (typeof stored[name] === 'number' ? [[name, stored[name]]] : [])),
  ) as Partial<UsageLimits>;
}

/** The message shown instead of a reply when a limit is reached. */
function refusal(name: (typeof LIMIT_NAMES)[number], rule: RuleState, now: number): string {
  const limit = rule.limit.toLocaleString('en-US');
  const wait = formatWait(rule.resetAt - now);
  switch (name) {
    case 'userMessagesPerMinute':
      return `You've reached ${limit} messages a minute; try again in ${wait}.`;
    case 'serverMessagesPerMinute':
      return `This server has reached ${limit} messages a minute; try again in ${wait}.`;
    case 'userTokensPerDay':
      return `You've used your ${limit} tokens for today; they reset at 00:00 UTC (in ${wait}).`;
    case 'serverTokensPerDay':
      return `This server has used its ${limit} tokens for today; it resets at 00:00 UTC (in ${wait}).`;
  }
}

/** "42 s", "12 min", "3 h 12 min". */
export function formatWait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}
