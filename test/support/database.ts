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
 * server (one database, one connection) it is a freshly emptied public schema.
 */
export async function createTestDatabase(options: { embeddingDimension?: number; migrate?: boolean } = {}): Promise<TestDatabase> {
  const embeddingDimension = options.embeddingDimension ?? 8;
  const serverUrl = inject('databaseUrl');
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

async function withConnection<T>(url: string, work: (orm: MikroORM) => Promise<T>): Promise<T> {
  const orm = await MikroORM.init(createOrmOptions({ clientUrl: url, embeddingDimension: 8, poolSize: 1 }));
  try {
    return await work(orm);
  } finally {
    await orm.close(true);
  }
}
