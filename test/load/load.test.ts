import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FULL_RUN, type LoadParams } from '../../bench/load/params.js';
import { runLoad } from '../../bench/load/run-load.js';

/**
 * The load run of `npm run bench -- load`, small: 20 people in 5 channels and
 * 2 scenes for 25 s, through a real gateway process and two worker processes.
 * It asserts the end-state check (nothing lost, nothing doubled, every reply
 * on Discord as stored, every scene round complete) and no 429 loops; no
 * timing assertions. Needs a real PostgreSQL and Redis: worker processes
 * share them with the gateway.
 */
const servers = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

const SMALL: LoadParams = { ...FULL_RUN, users: 20, channels: 5, scenes: 2, minutes: 25 / 60, settleTimeoutMs: 40_000 };

describe.runIf(servers)('load through a gateway and two worker processes (short)', () => {
  it('answers every message once per expected speaker, within Discord’s rate limits', { timeout: 420_000 }, async () => {
    // A database of its own, so that two runs at once (two checkouts, two CI jobs) do not drop each other's.
    const report = await runLoad(SMALL, { database: `dreamchat_load_ci_${randomBytes(4).toString('hex')}`, redisDb: 8 });
    const summary = JSON.stringify(
      { violations: report.violations, examples: report.examples, processErrors: report.processErrors, rest: report.discordRest },
      null,
      2,
    );
    expect(report.messages.sent, summary).toBeGreaterThan(5);
    expect(report.messages.stored, summary).toBe(report.messages.sent);
    expect(report.settled, summary).toBe(true);
    expect(report.violationCount, summary).toBe(0);
    expect(report.discordRest.loops429, summary).toBe(0);
    expect(report.processErrors.errors, summary).toBe(0);
    expect(report.ok, summary).toBe(true);
  });
});

describe.skipIf(servers)('load through worker processes (short)', () => {
  it.skip('needs DATABASE_URL and REDIS_URL: worker processes share a real PostgreSQL and Redis with the gateway', () => {});
});
