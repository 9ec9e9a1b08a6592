import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmOptions } from '../../mikro-orm.config.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbeddedPostgres } from './embedded.js';

export interface Database {
  orm: MikroORM;
  /** True when running on the embedded PGlite server (single process only). */
  embedded: boolean;
  close(): Promise<void>;
}

/** Connects to DATABASE_URL, or starts the embedded PostgreSQL when it is not set. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  const embedded = config.database.url ? undefined : await startEmbeddedPostgres({ dataDir: config.database.dataDir, logger });
  const clientUrl = config.database.url ?? embedded!.url;
  try {
    const orm = await MikroORM.init({
      ...createOrmOptions({
        clientUrl,
        embeddingDimension: config.embedding.dimension,
        poolSize: embedded ? 1 : config.database.poolSize,
        log: (message) => logger.debug({ component: 'orm' }, message),
      }),
      driverOptions: { onPoolCreated: (pool: ConnectingPool) => connectPatiently(pool, logger) },
    });
    return {
      orm,
      embedded: Boolean(embedded),
      async close() {
        await orm.close();
        await embedded?.close();
      },
    };
  } catch (error) {
    await embedded?.close();
    throw error;
  }
}

/**
 * Applies pending migrations; returns their names. With `concurrent`, for
 * processes starting together on a new database (a gateway and its workers):
 * each migration runs in a transaction, so when two apply the same one the
 * second fails on the first's tables and rolls back; it then tries again
 * and finds nothing pending. One connection is enough (the embedded server).
 */
export async function migrateUp(orm: MikroORM, options: { concurrent?: boolean } = {}): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await orm.migrator.up()).map((migration) => migration.name);
    } catch (error) {
      if (!options.concurrent || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt + Math.random() * 300));
    }
  }
}

/** Reverts migrations: the last one, all of them with `{ to: 0 }`, or every one after the one named. */
export async function migrateDown(orm: MikroORM, options: { to?: 0 | string } = {}): Promise<string[]> {
  const done = await orm.migrator.down(options.to === undefined ? undefined : { to: options.to });
  return done.map((migration) => migration.name);
}

/**
 * The vector column's dimension is fixed when the schema is created. A
 * different EMBEDDING_DIMENSION would make every insert fail, so say so at start.
 */
export async function checkEmbeddingDimension(orm: MikroORM, expected: number): Promise<void> {
  const rows = await orm.em.getConnection().execute<{ dimension: number }[]>(
    `select atttypmod as dimension from pg_attribute
      where attrelid = 'vector_memories'::regclass and attname = 'embedding'`,
  );
  const actual = rows[0]?.dimension;
  if (actual !== undefined && actual !== expected) {
    throw new Error(
      `EMBEDDING_DIMENSION is ${expected}, but the database stores vectors of dimension ${actual}. ` +
        `Set EMBEDDING_DIMENSION=${actual}, or change the column and run "npm run reembed".`,
    );
  }
}

/** While the server cannot be reached (restarting, failing over), a new connection is tried again this long. */
const CONNECT_PATIENCE_MS = 30_000;
const CONNECT_RETRY_MS = 250;
/** Refused or cut connections, and PostgreSQL starting up or shutting down (57P01, 57P03). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P03']);

/** The part of pg's Pool used here: `connect()` without a callback returns a promise of a client. */
interface ConnectingPool {
  connect(...args: unknown[]): Promise<unknown> | void;
}

/**
 * Makes the pool wait out a short outage of the server when it opens a
 * connection (up to 30 s), instead of failing at once. A PostgreSQL restart
 * then delays the work of that moment rather than losing it: a Discord
 * message that arrives meanwhile (never delivered again) is stored and
 * answered once the server is back. Queries on a connection the server cut
 * still fail; jobs are retried for that.
 */
function connectPatiently(pool: ConnectingPool, logger: Logger, patienceMs = CONNECT_PATIENCE_MS): void {
  const connect = pool.connect.bind(pool);
  pool.connect = (...args: unknown[]) => {
    if (args.length) return connect(...args);
    return (async () => {
      const deadline = Date.now() + patienceMs;
      for (let tries = 1; ; tries += 1) {
        try {
          return await connect();
        } catch (error) {
          if (!isUnreachable(error) || Date.now() >= deadline) throw error;
          if (tries === 1) logger.warn({ err: error }, 'PostgreSQL unreachable; waiting for it to come back');
          await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
        }
      }
    })();
  };
}

function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNREACHABLE.has(code)) return true;
  return (
    error instanceof Error &&
    /Connection terminated|terminating connection due to administrator command|the database system is (starting up|shutting down)/.test(
      error.message,
    )
  );
}

/**
 * Runs `work` again when it failed because its connection was cut (the
 * server restarted or failed over). A pooled connection the server closed can
 * still be handed out before the pool notices, and its first query fails;
 * the next try gets a new connection, which waits for the server (see
 * `connectPatiently`). For work that is not a job and so is never retried
 * otherwise, such as a Discord message (never delivered again). `work` must
 * be safe to run twice: storing a message is keyed by its Discord id.
 */
export async function retryOnLostConnection<T>(work: () => Promise<T>, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= tries || !isUnreachable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS * attempt));
    }
  }
}
