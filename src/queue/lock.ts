import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** Gives the lock back; safe to call twice, and harmless after the lease ran out. */
export type Release = () => Promise<void>;

/**
 * Mutual exclusion by key across every process that shares it: Redis when
 * there is Redis, in-process otherwise. A holder that dies loses the lock
 * when its lease (`ttlMs`) runs out; a living holder renews it.
 */
export interface Locks {
  /** The lock, or undefined at once when someone else holds it. */
  tryAcquire(key: string, ttlMs: number): Promise<Release | undefined>;
  close(): Promise<void>;
}

/** Deletes the key only if it still holds our token, so an expired lease never frees someone else's lock. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** SET NX PX with a random token per holder, renewed at a third of the lease while held. */
class RedisLocks implements Locks {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(options: { url: string; prefix?: string }) {
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
    this.#redis.on('error', () => {
      // Reported by the commands that fail; ioredis reconnects by itself.
    });
    this.#prefix = `${options.prefix ?? 'dreamchat'}:lock:`;
  }

  async tryAcquire(key: string, ttlMs: number): Promise<Release | undefined> {
    const name = this.#prefix + key;
    const token = randomUUID();
    const ok = await this.#redis.set(name, token, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return undefined;
    const renew = setInterval(
      () => {
        this.#redis.eval(RENEW, 1, name, token, String(ttlMs)).catch(() => {});
      },
      Math.max(100, Math.floor(ttlMs / 3)),
    );
    renew.unref();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      clearInterval(renew);
      await this.#redis.eval(RELEASE, 1, name, token).catch(() => {});
    };
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

/** The same contract inside one process (no Redis): leases never run out while the process lives. */
class MemoryLocks implements Locks {
  readonly #held = new Set<string>();

  async tryAcquire(key: string): Promise<Release | undefined> {
    if (this.#held.has(key)) return undefined;
    this.#held.add(key);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.#held.delete(key);
    };
  }

  async close(): Promise<void> {}
}

export function createLocks(options: { redisUrl?: string; prefix?: string }): Locks {
  return options.redisUrl ? new RedisLocks({ url: options.redisUrl, prefix: options.prefix }) : new MemoryLocks();
}
