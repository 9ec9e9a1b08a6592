import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createOrmOptions } from '../../mikro-orm.config.js';
import { loadConfig } from '../../src/config.js';
import { migrateUp } from '../../src/db/database.js';
import { LlmProviderInstance } from '../../src/db/entities/index.js';
import { seedSystemInstances } from '../../src/llm/registry.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * A gateway and its workers starting at once on a new database, as
 * `docker compose up` does: several processes, each with its own pool. The
 * embedded server has one connection, so this needs a real one.
 */
describe.runIf(!inject('embedded'))('processes starting together', () => {
  let db: TestDatabase;
  const processes: MikroORM[] = [];

  beforeAll(async () => {
    db = await createTestDatabase({ embeddingDimension: 16, migrate: false });
    for (let i = 0; i < 3; i++)
      processes.push(await MikroORM.init(createOrmOptions({ clientUrl: db.url, embeddingDimension: 16, poolSize: 4 })));
  });
  afterAll(async () => {
    for (const orm of processes) await orm.close(true);
    await db?.close();
  });

  it('apply each migration once', async () => {
    const applied = await Promise.all(processes.map((orm) => migrateUp(orm, { concurrent: true })));
    const all = applied.flat();
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(new Set(all).size).toBe(all.length);
    expect(applied.filter((names) => names.length > 0)).toHaveLength(1);
  });

  it('seed the providers from the environment once, with one default', async () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-test', ANTHROPIC_API_KEY: 'sk-ant-test' });
    await Promise.all(processes.map((orm) => seedSystemInstances(orm.em.fork(), config)));
    const rows = await processes[0]!.em.fork().find(LlmProviderInstance, { scope: 'system' });
    expect(rows).toHaveLength(2);
    expect(rows.filter((row) => row.isDefault)).toHaveLength(1);
  });
});
