import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { entities } from './src/db/entities/index.js';
import { createMigrationsList } from './migrations/index.js';

export interface OrmSettings {
  /** postgres:// URL of the server (the embedded one's URL when no DATABASE_URL is set). */
  clientUrl: string;
  embeddingDimension: number;
  /** The embedded PGlite server takes one connection at a time. */
  poolSize?: number;
  debug?: boolean;
  /** Where MikroORM's own messages go (the process logger). */
  log?: (message: string) => void;
}

/** The one MikroORM configuration of the project: entities, migrations, pool. */
export function createOrmOptions(settings: OrmSettings): Options {
  return defineConfig({
    clientUrl: settings.clientUrl,
    entities,
    extensions: [Migrator],
    pool: { min: 0, max: settings.poolSize ?? 10 },
    debug: settings.debug ?? false,
    logger: settings.log ?? (() => {}),
    allowGlobalContext: false,
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: createMigrationsList({ embeddingDimension: settings.embeddingDimension }),
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      snapshotOnMigrate: false,
    },
  });
}
