import { describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/identity.js';
import type { IGuild, IUser } from '../../src/db/entities/index.js';
import { createLogger } from '../../src/logger.js';
import { formatWait, UsageBudget, type UsageLimits } from '../../src/usage/budget.js';
import { estimateCost, formatCost, priceOf } from '../../src/usage/pricing.js';
import { MemoryRateLimiter, type RateLimiter } from '../../src/usage/rate-limiter.js';
import { spendingMetadata } from '../../src/usage/spending.js';

const logger = createLogger('silent');
const limits: UsageLimits = { userMessagesPerMinute: 2, userTokensPerDay: 1000, serverMessagesPerMinute: 3, serverTokensPerDay: 200_000 };
const actorOf = (user: string, guild?: Record<string, unknown>): Actor => ({
  user: { id: `uuid-${user}`, discordId: user } as unknown as IUser,
  guild: guild ? ({ id: 'uuid-g', discordId: 'g1', settings: guild } as unknown as IGuild) : undefined,
  isGuildAdmin: false,
});

function budgetAt(time: number, overrides: Partial<UsageLimits> = {}) {
  const clock = { now: time };
  const limiter = new MemoryRateLimiter({ now: () => clock.now });
  const budget = new UsageBudget({ limiter, limits: { ...limits, ...overrides }, logger, now: () => clock.now });
  return { clock, budget };
}

describe('UsageBudget', () => {
  it('refuses politely past a person’s messages a minute, with the wait until the window ends', async () => {
    const { budget } = budgetAt(Date.UTC(2030, 0, 1, 12, 0, 18));
    const alice = actorOf('alice', {});
    expect(await budget.admit(alice)).toBeUndefined();
    expect(await budget.admit(alice)).toBeUndefined();
    expect(await budget.admit(alice)).toBe("You've reached 2 messages a minute; try again in 42 s.");
    expect(await budget.admit(actorOf('bob', {}))).toBeUndefined();
    expect(await budget.admit(actorOf('carol', {}))).toBe('This server has reached 3 messages a minute; try again in 42 s.');
    expect(await budget.admit(actorOf('dave'))).toBeUndefined(); // a DM: no server limit
  });

  it('refuses once a day’s tokens are used, until 00:00 UTC; the reply that crosses the line completes', async () => {
    const { clock, budget } = budgetAt(Date.UTC(2030, 0, 1, 20, 48, 0), { userMessagesPerMinute: 0 });
    const alice = actorOf('alice', {});
    expect(await budget.admit(alice)).toBeUndefined();
    await budget.spend(alice, 1200);
    expect(await budget.admit(alice)).toBe("You've used your 1,000 tokens for today; they reset at 00:00 UTC (in 3 h 12 min).");
    await budget.spend(actorOf('bob', {}), 199_000);
    expect(await budget.admit(actorOf('carol', {}))).toBe(
      'This server has used its 200,000 tokens for today; it resets at 00:00 UTC (in 3 h 12 min).',
    );
    clock.now = Date.UTC(2030, 0, 2);
    expect(await budget.admit(alice)).toBeUndefined();
    expect(await budget.state(alice, { server: true })).toMatchObject([
      { name: 'userMessagesPerMinute', used: 1, limit: 0 },
      { name: 'userTokensPerDay', used: 0, limit: 1000 },
      { name: 'serverMessagesPerMinute', used: 1, limit: 3 },
      { name: 'serverTokensPerDay', used: 0, limit: 200_000 },
    ]);
  });

  it('lets a server’s admins lower its limits, never raise them', async () => {
    const { budget } = budgetAt(Date.UTC(2030, 0, 1), { serverTokensPerDay: 0 });
    const lowered = actorOf('alice', { usage: { userMessagesPerMinute: 1, serverTokensPerDay: 50_000, userTokensPerDay: 9_999_999 } });
    expect(await budget.limitsFor(lowered)).toEqual({
      userMessagesPerMinute: 1,
      userTokensPerDay: 1000,
      serverMessagesPerMinute: 3,
      serverTokensPerDay: 50_000,
    });
    expect(await budget.admit(lowered)).toBeUndefined();
    expect(await budget.admit(lowered)).toMatch(/reached 1 messages a minute/);
  });

  it('lets replies through when the limiter cannot be reached', async () => {
    const broken: RateLimiter = {
      hit: () => Promise.reject(new Error('Redis is down')),
      add: () => Promise.reject(new Error('Redis is down')),
      peek: () => Promise.reject(new Error('Redis is down')),
      forget: () => Promise.reject(new Error('Redis is down')),
      close: async () => {},
    };
    const budget = new UsageBudget({ limiter: broken, limits, logger });
    expect(await budget.admit(actorOf('alice', {}))).toBeUndefined();
    await expect(budget.spend(actorOf('alice', {}), 10)).resolves.toBeUndefined();
  });

  it('says how long to wait in plain units', () => {
    expect([formatWait(41_200), formatWait(60_000), formatWait(754_000), formatWait(3 * 3600_000), formatWait(11_520_000)]).toEqual([
      '42 s',
      '1 min',
      '13 min',
      '3 h',
      '3 h 12 min',
    ]);
  });
});

describe('estimated cost', () => {
  it('prices known models by their longest matching name; others are unknown', () => {
    expect(priceOf('gpt-4o-mini-2024-07-18')).toEqual({ input: 0.15, output: 0.6 });
    expect(priceOf('gpt-4o')).toEqual({ input: 2.5, output: 10 });
    expect(priceOf('anthropic/claude-3-5-sonnet-20241022')).toEqual({ input: 3, output: 15 });
    expect(priceOf('llama3.2')).toBeUndefined();
    expect(priceOf('gpt-4ox')).toBeUndefined();
    expect(estimateCost('gpt-4o-mini', { inputTokens: 812, outputTokens: 96 })).toBeCloseTo(0.0001794, 10);
    expect(estimateCost('fake-model', { inputTokens: 812, outputTokens: 96 })).toBeUndefined();
    expect([formatCost(0.0001794), formatCost(1.372), formatCost(0.00001), formatCost(undefined), formatCost(0)]).toEqual([
      '$0.00018',
      '$1.37',
      '<$0.0001',
      'unknown',
      '$0',
    ]);
  });

  it('adds up every generation of a reply for the person it answered', () => {
    const first = spendingMetadata(undefined, { model: 'gpt-4o', usage: { inputTokens: 1000, outputTokens: 100 } }, 'alice', true);
    expect(first).toEqual({ costUsd: 0.0035, spent: { by: 'alice', tokens: 1100, costUsd: 0.0035, generations: 1 } });
    const regenerated = spendingMetadata(first, { model: 'gpt-4o', usage: { inputTokens: 1000, outputTokens: 200 } }, 'bob', true);
    expect(regenerated).toEqual({ costUsd: 0.0045, spent: { by: 'alice', tokens: 2300, costUsd: 0.008, generations: 2 } });
    const continued = spendingMetadata(regenerated, { model: 'llama3', usage: { inputTokens: 10, outputTokens: 5 } }, 'alice', false);
    expect(continued).toMatchObject({ costUsd: 0.0045, spent: { tokens: 2315, costUsd: 0.008, generations: 3 } });
  });
});
