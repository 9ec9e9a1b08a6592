import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { LOCK_FILE } from '../src/db/data-dir-lock.js';
import { startFakeDiscord, type FakeDiscord } from './discord-fake/index.js';
import type { FakeServer } from './fakes-llm/fake-server.js';
import { startFakeOpenAI } from './fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { fakeServicesEnv } from './support/fake-env.js';
import { PROCESS_START_MS } from './support/process-start.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** npm from PATH, as a user runs it. */
const NPM = 'npm';

/** Process ids whose parent is `pid`, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name (field 2) is in parentheses and may hold spaces: the parent id is the second field after it.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** `pid` and everything it started, at any depth. */
function treeOf(pid: number): number[] {
  return [pid, ...childrenOf(pid).flatMap(treeOf)];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * The bot started as the Docker image starts it (`node dist/src/main.js`, node the top process) and as a user does
 * (`npm start`), against the fake Discord: SIGTERM to the top process reaches the bot, which shuts down cleanly and
 * leaves nothing running; and two of them on one DATA_DIR.
 */
describe('the bot as the main process of a container', () => {
  let discord: FakeDiscord;
  let llm: FakeServer;
  let db: TestDatabase | undefined;
  const started: Started[] = [];

  beforeAll(async () => {
    // What the image's build stage runs (incremental: quick when dist/ is current, as after CI's build step).
    await new Promise<void>((resolve, reject) =>
      execFile(NPM, ['run', 'build'], { cwd: ROOT, timeout: 280_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`npm run build failed: ${error.message}\n${stdout}${stderr}`)) : resolve(),
      ),
    );
    llm = await startFakeOpenAI();
    discord = await startFakeDiscord({ botUser: { username: 'DreamChat' }, rateLimits: 'relaxed' });
    // On the real server the bot gets a database of its own; on the embedded pass it starts its own PGlite in DATA_DIR.
    if (!inject('embedded')) {
      db = await createTestDatabase({ embeddingDimension: 64, migrate: false });
      await db.orm.close();
    }
  }, 300_000);
  afterEach(() => {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  afterAll(async () => {
    await discord?.close();
    await llm?.close();
    await db?.close();
  });

  /** Starts a process; unless `ready` is false, waits until it has connected to Discord. */
  async function start(
    command: string,
    args: string[],
    options: { dataDir?: string; env?: Record<string, string>; ready?: boolean } = {},
  ): Promise<Started> {
    const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'dreamchat-container-')));
    const child = spawn(command, args, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        ...fakeServicesEnv(discord, llm),
        LOG_LEVEL: 'info',
        DATA_DIR: dataDir,
        // Set (empty when unused) so that a developer's .env cannot point the bot elsewhere.
        DATABASE_URL: db?.url ?? '',
        REDIS_URL: '',
        SHUTDOWN_GRACE_MS: '20000',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const result = { child, output: () => output, exited };
    started.push(result);
    if (options.ready === false) return result;
    await expect.poll(() => output, { timeout: PROCESS_START_MS, interval: 100 }).toContain('connected to Discord');
    return result;
  }

  /** SIGTERM to the top process only (as docker stop sends it to PID 1); every process of the tree must end. */
  async function stop(bot: Started): Promise<void> {
    const tree = treeOf(bot.child.pid!);
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(bot.output()).toContain('shutting down');
    expect(bot.output()).toContain('shut down cleanly');
    await expect.poll(() => tree.filter(alive), { timeout: 10_000 }).toEqual([]);
  }

  it(
    'node dist/src/main.js, as the image runs it: SIGTERM shuts the bot down cleanly',
    async () => {
      const bot = await start(process.execPath, ['dist/src/main.js']);
      expect(treeOf(bot.child.pid!)).toEqual([bot.child.pid]);
      await stop(bot);
    },
    PROCESS_START_MS + 60_000,
  );

  it(
    'npm start: the SIGTERM npm gets reaches the bot, and nothing is left running',
    async () => {
      const bot = await start(NPM, ['start']);
      // npm runs the bot itself (the script execs node), so there is a node process under npm to reach.
      const [botPid] = childrenOf(bot.child.pid!);
      expect(botPid).toBeDefined();
      expect(readFileSync(`/proc/${botPid}/cmdline`, 'utf8')).toContain('dist/src/main.js');
      await stop(bot);
      expect(alive(botPid!)).toBe(false);
    },
    PROCESS_START_MS + 180_000,
  );

  it('a second bot on the same DATA_DIR refuses at once, naming the first one’s pid; the lock goes with the first', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'dreamchat-container-'));
    // The embedded database (no DATABASE_URL) on both passes: the lock is its.
    const embedded = { DATABASE_URL: '' };
    const first = await start(process.execPath, ['dist/src/main.js'], { dataDir, env: embedded });
    const second = await start(process.execPath, ['dist/src/main.js'], { dataDir, env: embedded, ready: false });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`DATA_DIR ${dataDir} is in use by another DreamChat process (pid ${first.child.pid})`);
    expect(second.output()).not.toContain('connected to Discord');
    await stop(first);
    expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
  }, 300_000);
});
