import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import { inject } from 'vitest';
import { createOrmOptions } from '../../mikro-orm.config.js';
import { migrateUp } from '../../src/db/database.js';

export interface TestDatabase {
  orm: MikroORM;
  url: string;
  embeddingDimension: number;
  close(): Promise<void>;
}

/**
 * A database of its own for one test file, migrated unless told otherwise.
 * On a real server that is a new database, dropped by close(); on the embedded
 * servers (one per vitest worker, one database and one connection each) it is
 * a freshly emptied public schema on this worker's server.
 */
export async function createTestDatabase(options: { embeddingDimension?: number; migrate?: boolean } = {}): Promise<TestDatabase> {
  const embeddingDimension = options.embeddingDimension ?? 8;
  const serverUrl = testServerUrl();
  const embedded = inject('embedded');
  let url = serverUrl;
  let dropDatabase = async () => {};
  if (embedded) {
    await withConnection(serverUrl, async (orm) => {
      await orm.em.execute('drop schema if exists public cascade', [], 'run');
      await orm.em.execute('create schema public', [], 'run');
    });
  } else {
    const name = `dreamchat_test_${randomBytes(6).toString('hex')}`;
    await withConnection(serverUrl, (orm) => orm.em.execute(`create database ${name}`, [], 'run'));
    const parsed = new URL(serverUrl);
    parsed.pathname = `/${name}`;
    url = parsed.toString();
    dropDatabase = async () => {
      await withConnection(serverUrl, (orm) => orm.em.execute(`drop database if exists ${name} with (force)`, [], 'run'));
    };
  }
  const orm = await MikroORM.init(createOrmOptions({ clientUrl: url, embeddingDimension, poolSize: embedded ? 1 : 4 }));
  if (options.migrate !== false) await migrateUp(orm);
  return {
    orm,
    url,
    embeddingDimension,
    async close() {
      await orm.close(true);
      await dropDatabase();
    },
  };
}

/**
 * The server this test file uses: DATABASE_URL, or the embedded server of the
 * vitest worker running the file (VITEST_POOL_ID is 1 … workers, and no two
 * files running at the same time share one).
 */
function testServerUrl(): string {
  const urls = inject('databaseUrls');
  const worker = Number(process.env.VITEST_POOL_ID ?? 1);
  return urls[(worker - 1) % urls.length]!;
}

async function withConnection<T>(url: string, work: (orm: MikroORM) => Promise<T>): Promise<T> {
  const orm = await MikroORM.init(createOrmOptions({ clientUrl: url, embeddingDimension: 8, poolSize: 1 }));
  try {
    return await work(orm);
  } finally {
    await orm.close(true);
  }
}
