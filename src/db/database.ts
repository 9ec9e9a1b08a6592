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
  const embedded = config.database.url
    ? undefined
    : await startEmbeddedPostgres({ dataDir: config.database.dataDir, logger });
  const clientUrl = config.database.url ?? embedded!.url;
  try {
    const orm = await MikroORM.init(
      createOrmOptions({
        clientUrl,
        embeddingDimension: config.embedding.dimension,
        poolSize: embedded ? 1 : config.database.poolSize,
        log: (message) => logger.debug({ component: 'orm' }, message),
      }),
    );
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

/** Applies pending migrations; returns their names. */
export async function migrateUp(orm: MikroORM): Promise<string[]> {
  const done = await orm.migrator.up();
  return done.map((migration) => migration.name);
}

/** Reverts migrations: the last one, or all of them with `{ to: 0 }`. */
export async function migrateDown(orm: MikroORM, options: { to?: 0 } = {}): Promise<string[]> {
  const done = await orm.migrator.down(options.to === 0 ? { to: 0 } : undefined);
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
