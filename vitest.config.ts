import { defineConfig } from 'vitest/config';
import { testWorkers } from './test/support/test-workers.js';

/**
 * Test files run side by side, `testWorkers()` at a time: each has a database
 * of its own (a new database on DATABASE_URL's server, or an emptied schema on
 * its worker's embedded server) and Redis keys under a prefix of its own.
 * Files under a directory listed in ALONE run afterwards, one at a time: they
 * drive several processes hard (the load run) and would starve their neighbours.
 */
const ALONE = ['test/load/**/*.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: testWorkers(),
    projects: [
      { extends: true, test: { name: 'parallel', include: ['test/**/*.test.ts'], exclude: ALONE } },
      { extends: true, test: { name: 'alone', include: ALONE, fileParallelism: false } },
    ],
  },
});
