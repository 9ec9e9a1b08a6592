import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { testWorkers } from './support/test-workers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /**
     * postgres:// URLs of the servers the tests use: DATABASE_URL alone, or one
     * embedded server per vitest worker (test/support/database.ts picks its own
     * by VITEST_POOL_ID).
     */
    databaseUrls: string[];
    embedded: boolean;
  }
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const START_MS = 120_000;

/**
 * With DATABASE_URL set the tests use that server (each file gets its own
 * database, so files run side by side). Without it they run on embedded
 * PostgreSQL (PGlite + pgvector), one server per worker, each in a process of
 * its own, so `npm test` needs nothing installed but Node.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.DATABASE_URL;
  const queues = process.env.REDIS_URL ? 'Redis' : 'in-process';
  const workers = testWorkers();
  if (url) {
    project.provide('databaseUrls', [url]);
    project.provide('embedded', false);
    console.log(`tests: PostgreSQL at ${new URL(url).host}, queues on ${queues}, ${workers} files at a time`);
    return async () => {};
  }
  const servers = await Promise.allSettled(Array.from({ length: workers }, () => startServerProcess()));
  const started = servers.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stopAll = () => Promise.all(started.map((s) => s.stop())).then(() => {});
  const failed = servers.find((s) => s.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  project.provide(
    'databaseUrls',
    started.map((s) => s.url),
  );
  project.provide('embedded', true);
  console.log(`tests: embedded PostgreSQL (PGlite) ×${workers}, queues on ${queues}, ${workers} files at a time`);
  return stopAll;
}

interface ServerProcess {
  url: string;
  stop(): Promise<void>;
}

/** Starts test/support/embedded-server.ts and reads the URL it prints. */
async function startServerProcess(): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support/embedded-server.ts')], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the embedded PostgreSQL did not start within ${START_MS / 1000} s`)), START_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the embedded PostgreSQL exited before it started (${signal ?? `code ${code}`})`));
    });
  }).catch(async (error: unknown) => {
    await stop(child, exited);
    throw error;
  });
  return { url, stop: () => stop(child, exited) };
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killed);
}
