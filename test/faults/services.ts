import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { PROCESS_START_MS, tsEntryArgs } from '../support/process-start.js';

/** Private servers and child processes for the fault tests, each on a free port, killed and restarted at will. */

const PG_BIN = '/usr/lib/postgresql/15/bin';

export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
/** initdb and postgres 15 with pgvector, and a `postgres` OS user to run them as when we are root. */
export const hasPostgresServer =
  existsSync(path.join(PG_BIN, 'initdb')) &&
  existsSync('/usr/share/postgresql/15/extension/vector.control') &&
  (process.getuid?.() !== 0 || spawnSync('id', ['-u', 'postgres']).status === 0);

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something truthy (or stops throwing); fails with the last error after `timeoutMs`. */
export async function until<T>(check: () => T | Promise<T>, timeoutMs = 20_000, label = 'a condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

/** A throwaway redis-server with append-only persistence (as docker-compose runs it), killable with SIGKILL. */
export class RedisServer {
  #process: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), await mkdtemp(path.join(tmpdir(), 'dreamchat-fault-redis-')));
    await server.restart();
    return server;
  }

  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    const child = spawn('redis-server', [...args, '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'pipe' });
    this.#process = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
    });
  }

  /** SIGKILL: nothing saved beyond what the append-only file already holds. */
  async crash(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.crash();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A private PostgreSQL 15 cluster (pgvector available) in a temporary
 * directory, run as the `postgres` OS user when we are root (initdb refuses root).
 */
export class PostgresCluster {
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/dreamchat`;
  }

  static async start(): Promise<PostgresCluster> {
    const dir = await mkdtemp(path.join(tmpdir(), 'dreamchat-fault-pg-'));
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      await chown(dir, uid, gid);
    }
    const cluster = new PostgresCluster(await freePort(), dir);
    cluster.#run('initdb', ['-D', cluster.#data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await cluster.startServer();
    cluster.#run('psql', [
      '-h',
      '127.0.0.1',
      '-p',
      String(cluster.port),
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-qc',
      'create database dreamchat',
    ]);
    return cluster;
  }

  get #data(): string {
    return path.join(this.dir, 'data');
  }

  async startServer(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    this.#run('pg_ctl', ['-D', this.#data, '-o', options, '-l', path.join(this.dir, 'log'), '-w', '-t', '30', 'start']);
  }

  /** Fast shutdown: open sessions are cut, as when an operator restarts the server. */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    this.#run('pg_ctl', ['-D', this.#data, '-m', mode, '-w', '-t', '30', 'stop']);
  }

  async destroy(): Promise<void> {
    try {
      this.#run('pg_ctl', ['-D', this.#data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Already stopped.
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  #run(binary: string, args: string[]): void {
    const file = binary === 'psql' ? 'psql' : path.join(PG_BIN, binary);
    const asRoot = process.getuid?.() === 0;
    const result = asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', file, ...args], { encoding: 'utf8', cwd: this.dir })
      : spawnSync(file, args, { encoding: 'utf8', cwd: this.dir });
    if (result.status !== 0) throw new Error(`${binary} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  }
}

/** `tsx src/worker.ts` (or another entry point) as a child process, from an empty directory (no .env). */
export class EntryProcess {
  readonly lines: string[] = [];
  readonly #child: ChildProcess;
  readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let partial = '';
    const collect = (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      this.lines.push(...lines.filter(Boolean));
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  static async start(script: string, env: Record<string, string>, readyLine: string): Promise<EntryProcess> {
    const cwd = await mkdtemp(path.join(tmpdir(), 'dreamchat-fault-proc-'));
    const child = spawn(process.execPath, tsEntryArgs(script), {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry = new EntryProcess(child);
    void entry.exited.then(() => rm(cwd, { recursive: true, force: true }));
    try {
      await Promise.race([
        until(() => entry.messages().includes(readyLine), PROCESS_START_MS, `${script} to log "${readyLine}"`),
        entry.exited.then((code) => {
          throw new Error(`${script} exited with ${code} before it was ready:\n${entry.lines.join('\n')}`);
        }),
      ]);
    } catch (error) {
      // Never leave a process behind that the test will not know to stop (one outlived a failed CI run).
      child.kill('SIGKILL');
      throw error;
    }
    return entry;
  }

  /** The `msg` of every JSON log line. */
  messages(): string[] {
    return this.lines.flatMap((line) => {
      try {
        return [(JSON.parse(line) as { msg: string }).msg];
      } catch {
        return [];
      }
    });
  }

  /** SIGKILL: no shutdown, no cleanup, locks left to run out. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return;
    this.#child.kill(signal);
    await this.exited;
  }
}

/** A pino destination that keeps the lines, to assert on what was logged. */
export class LogLines extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  }
  entries(): { msg: string; level: number; [key: string]: unknown }[] {
    return this.lines.map((line) => JSON.parse(line) as { msg: string; level: number });
  }
  messages(): string[] {
    return this.entries().map((entry) => entry.msg);
  }
}
