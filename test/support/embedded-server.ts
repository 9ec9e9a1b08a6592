import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { createLogger } from '../../src/logger.js';

/**
 * One embedded PostgreSQL (PGlite + pgvector, in memory) in a process of its
 * own, for one vitest worker: test/global-setup.ts starts one per worker so
 * that the workers' databases run side by side instead of taking turns on
 * vitest's main thread. Prints its postgres:// URL as the first line, and
 * stops when told to (SIGTERM) or when the process that started it goes away
 * (its standard input closes).
 */
const server = await startEmbeddedPostgres({ logger: createLogger('warn') });
process.stdout.write(`${server.url}\n`);

let closing = false;
async function stop(): Promise<void> {
  if (closing) return;
  closing = true;
  await server.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
