import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { createLogger } from '../src/logger.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres:// URL of the server the tests use: DATABASE_URL, or the embedded one. */
    databaseUrl: string;
    embedded: boolean;
  }
}

/**
 * With DATABASE_URL set the tests use that server (each file gets its own
 * database). Without it they run on an embedded PostgreSQL (PGlite + pgvector)
 * started here, so `npm test` needs nothing installed but Node.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.DATABASE_URL;
  if (url) {
    project.provide('databaseUrl', url);
    project.provide('embedded', false);
    console.log(`tests: PostgreSQL at ${new URL(url).host}, queues on ${process.env.REDIS_URL ? 'Redis' : 'in-process'}`);
    return async () => {};
  }
  const embedded = await startEmbeddedPostgres({ logger: createLogger('warn') });
  project.provide('databaseUrl', embedded.url);
  project.provide('embedded', true);
  console.log(`tests: embedded PostgreSQL (PGlite), queues on ${process.env.REDIS_URL ? 'Redis' : 'in-process'}`);
  return () => embedded.close();
}
