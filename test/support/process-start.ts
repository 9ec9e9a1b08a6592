import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * How long a test waits for a child process (the bot, a worker, tsx compiling an entry point) to come up. Starting
 * one takes 2–5 s on a quiet machine and over a minute on a loaded one (CI runs beside other work): it is a bound on
 * waiting for a condition, not a timing assertion, so it is generous.
 */
export const PROCESS_START_MS = 180_000;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Arguments for `process.execPath` that run a TypeScript entry point of this project (`src/worker.ts`) in Node itself
 * with tsx's loader. Not the tsx CLI: it runs the script in a child of its own and relays signals to it, and when the
 * child does not acknowledge a SIGTERM within 30 ms (a loaded machine), it SIGKILLs it and exits 143, so a graceful
 * shutdown under test was cut short; a SIGKILL would orphan the child.
 */
export function tsEntryArgs(script: string): string[] {
  return ['--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, path.join(ROOT, script)];
}
