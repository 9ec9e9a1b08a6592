import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirInUseError, LOCK_FILE, lockDataDir } from '../../src/db/data-dir-lock.js';

/** A process that runs until killed, and its pid. */
function otherProcess() {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { pid: child.pid!, stop: async () => (child.kill('SIGKILL'), await exited) };
}

/** The lock in-process; two bot processes on one DATA_DIR are in test/container-start.test.ts. */
describe('the DATA_DIR lock', () => {
  it('is taken with this pid and removed on release', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dreamchat-lock-'));
    const lock = lockDataDir(dir);
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('is refused while the process holding it lives, naming its pid', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dreamchat-lock-'));
    const holder = otherProcess();
    try {
      writeFileSync(path.join(dir, LOCK_FILE), `${holder.pid}\nsomewhere\n2026-01-01T00:00:00.000Z\n`);
      expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
      expect(() => lockDataDir(dir)).toThrow(`in use by another DreamChat process (pid ${holder.pid})`);
      // Refused, the lock stays the holder's.
      expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').split('\n')[0]).toBe(String(holder.pid));
    } finally {
      await holder.stop();
    }
  });

  it('is taken over when the process that held it is gone (killed, crashed)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dreamchat-lock-'));
    const gone = otherProcess();
    await gone.stop();
    writeFileSync(path.join(dir, LOCK_FILE), `${gone.pid}\nsomewhere\n2026-01-01T00:00:00.000Z\n`);
    const lock = lockDataDir(dir);
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
  });
});
