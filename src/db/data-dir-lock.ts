import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../config.js';

/** The file in DATA_DIR that says which process has the embedded database open. */
export const LOCK_FILE = 'dreamchat.pid';

/** Another live process holds DATA_DIR. A ConfigError, so the entry points print it plainly and exit 1. */
export class DataDirInUseError extends ConfigError {
  override name = 'DataDirInUseError';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by another DreamChat process (pid ${pid}): its embedded database takes one process ` +
        'at a time. Stop that process first, give this one a DATA_DIR of its own, or share a PostgreSQL server between ' +
        'them with DATABASE_URL.',
    );
  }
}

/**
 * Takes DATA_DIR for this process, for its whole life: writes its pid into
 * `dreamchat.pid`, created only if absent. A lock whose process is
 * gone (killed, crashed, or this very pid after a container restart) is stale
 * and taken over; one whose process is alive is refused at once with its pid.
 * `release()` (also run at exit) removes the file if it is still ours.
 */
export function lockDataDir(dataDir: string): { release(): void } {
  const file = path.join(dataDir, LOCK_FILE);
  // Written whole beside it, then linked into place: link() fails if the lock exists, and a lock is never half-written.
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n${hostname()}\n${new Date().toISOString()}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(mine, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
        const holder = readHolder(file);
        if (holder !== undefined && holder !== process.pid && isAlive(holder)) throw new DataDirInUseError(dataDir, holder);
        unlinkSync(file);
      }
    }
  } finally {
    unlinkSync(mine);
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    if (readHolder(file) === process.pid) unlinkSync(file);
  };
  process.on('exit', release);
  return { release };
}

/** The pid in a lock file; undefined when the file is gone or unreadable. */
function readHolder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
