import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsEntryArgs } from '../../test/support/process-start.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One bot process (`src/main.ts` or `src/worker.ts` in Node with tsx's loader), its output kept in a file. */
export interface BotProcess {
  name: string;
  child: ChildProcess;
  healthPort: number;
  logFile: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a bot process with `env` and waits until its /readyz answers 200. */
export async function startBotProcess(options: {
  name: string;
  entry: 'src/main.ts' | 'src/worker.ts';
  env: Record<string, string>;
  logDir: string;
}): Promise<BotProcess> {
  const healthPort = await freePort();
  const logFile = path.join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, tsEntryArgs(options.entry), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env, HEALTH_PORT: String(healthPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      setTimeout(() => log.end(), 100);
      resolve({ code, signal });
    }),
  );
  const started: BotProcess = { name: options.name, child, healthPort, logFile, exit };
  // Generous: on a loaded machine tsx takes over a minute to start a process; this waits for a condition.
  await waitReady(started, 180_000);
  return started;
}

async function waitReady(bot: BotProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void bot.exit.then(() => (exited = true));
  let last = '';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${bot.name} exited before it was ready:\n${await tail(bot.logFile)}`);
    try {
      const response = await fetch(`http://127.0.0.1:${bot.healthPort}/readyz`);
      last = `${response.status} ${await response.text()}`;
      if (response.ok) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${bot.name} not ready after ${timeoutMs} ms (last answer: ${last}):\n${await tail(bot.logFile)}`);
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopBotProcess(bot: BotProcess, graceMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (bot.child.exitCode === null && bot.child.signalCode === null) bot.child.kill('SIGTERM');
  const timer = setTimeout(() => bot.child.kill('SIGKILL'), graceMs);
  const result = await bot.exit;
  clearTimeout(timer);
  return result;
}

/** What a process logged at warn or above (pino JSON lines; anything else on stderr counts as an error). */
export async function problemsIn(bot: BotProcess): Promise<{ warnings: number; errors: number; samples: string[] }> {
  const text = await readFile(bot.logFile, 'utf8').catch(() => '');
  let warnings = 0;
  let errors = 0;
  const samples: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let level = 50;
    let message = line;
    try {
      const parsed = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      level = parsed.level ?? 30;
      message = `${parsed.msg ?? ''}${parsed.err?.message ? `: ${parsed.err.message}` : ''}`;
    } catch {
      // Not a log line: something printed outside the logger (a crash, a warning from Node).
      if (/^\s*(at |\(node:\d+\) )/.test(line)) continue;
    }
    if (level >= 50) errors++;
    else if (level >= 40) warnings++;
    else continue;
    if (samples.length < 8) samples.push(`${bot.name}: ${message.slice(0, 300)}`);
  }
  return { warnings, errors, samples };
}

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-30).join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
