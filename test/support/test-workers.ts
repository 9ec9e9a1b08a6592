import { availableParallelism } from 'node:os';

/**
 * How many test files run at once: TEST_WORKERS, else one per core up to 4.
 * Each worker gets an embedded database of its own (test/global-setup.ts),
 * found by the VITEST_POOL_ID vitest gives it (1 … workers).
 */
export function testWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const chosen = env.TEST_WORKERS ? Number(env.TEST_WORKERS) : Math.min(availableParallelism(), 4);
  if (!Number.isInteger(chosen) || chosen < 1) throw new Error(`TEST_WORKERS must be a whole number from 1, not ${env.TEST_WORKERS}`);
  return chosen;
}
