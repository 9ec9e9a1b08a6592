import { MikroORM } from '@mikro-orm/postgresql';
import { Redis } from 'ioredis';
import { createOrmOptions } from '../../mikro-orm.config.js';
import { migrateUp } from '../../src/db/database.js';

const DIMENSION = 384;

/** The load run's own database and Redis logical DB, so nothing of the tests' is touched. */
export interface LoadServices {
  databaseUrl: string;
  redisUrl: string;
  /** A small pool of the run's own, for setup and the end-state check. */
  orm: MikroORM;
  sql<T>(query: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * Creates `database` afresh on DATABASE_URL's server, migrates it, and
 * records every change of a scene's round (speakers chosen, each one spoken)
 * in load_scene_rounds through a trigger: the bot stores only the round in
 * progress, the check needs them all. Flushes Redis logical DB `redisDb`.
 */
export async function openServices(options: {
  serverUrl: string;
  redisUrl: string;
  database: string;
  redisDb: number;
}): Promise<LoadServices> {
  const admin = await MikroORM.init(createOrmOptions({ clientUrl: options.serverUrl, embeddingDimension: DIMENSION, poolSize: 1 }));
  await admin.em.execute(`drop database if exists ${options.database} with (force)`, [], 'run');
  await admin.em.execute(`create database ${options.database}`, [], 'run');
  await admin.close();
  const databaseUrl = withPath(options.serverUrl, `/${options.database}`);
  const orm = await MikroORM.init(createOrmOptions({ clientUrl: databaseUrl, embeddingDimension: DIMENSION, poolSize: 3 }));
  await migrateUp(orm);
  for (const statement of ROUND_LOG) await orm.em.fork().execute(statement, [], 'run');
  const redisUrl = withPath(options.redisUrl, `/${options.redisDb}`);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  await redis.flushdb();
  redis.disconnect();
  return {
    databaseUrl,
    redisUrl,
    orm,
    sql: <T>(query: string, params: unknown[] = []) => orm.em.fork().execute<T[]>(query, params),
    async close() {
      await orm.close();
      const again = await MikroORM.init(createOrmOptions({ clientUrl: options.serverUrl, embeddingDimension: DIMENSION, poolSize: 1 }));
      await again.em.execute(`drop database if exists ${options.database} with (force)`, [], 'run');
      await again.close();
      const flush = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
      await flush.flushdb();
      flush.disconnect();
    },
  };
}

function withPath(url: string, path: string): string {
  const parsed = new URL(url);
  parsed.pathname = path;
  return parsed.toString();
}

const ROUND_LOG = [
  `create table load_scene_rounds (
  seq bigserial primary key,
  conversation_id uuid not null,
  round jsonb,
  last_round_spoke jsonb,
  at timestamptz not null default clock_timestamp()
)`,
  `create function load_log_round() returns trigger language plpgsql as $$
begin
  if (old.settings #> '{scene,round}') is distinct from (new.settings #> '{scene,round}') then
    insert into load_scene_rounds (conversation_id, round, last_round_spoke)
    values (new.id, nullif(new.settings #> '{scene,round}', 'null'::jsonb), new.settings #> '{scene,lastRoundSpoke}');
  end if;
  return new;
end $$`,
  `create trigger load_log_round after update on conversations for each row execute function load_log_round()`,
];

/** Jobs waiting, delayed or running per queue (BullMQ's own counts, prefix "dreamchat" as the bot uses). */
export async function queueDepth(redisUrl: string, names: string[]): Promise<Record<string, number>> {
  const { Queue } = await import('bullmq');
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const depth: Record<string, number> = {};
  try {
    for (const name of names) {
      const queue = new Queue(name, { connection, prefix: 'dreamchat' });
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      depth[name] = Object.values(counts).reduce((sum, n) => sum + n, 0);
      await queue.close();
    }
  } finally {
    connection.disconnect();
  }
  return depth;
}
