import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '../logger.js';
import { lockDataDir } from './data-dir-lock.js';

export interface EmbeddedPostgres {
  /** postgres:// URL for the MikroORM PostgreSQL driver (one connection at a time). */
  url: string;
  close(): Promise<void>;
}

/**
 * A real PostgreSQL (PGlite, WebAssembly) with pgvector, served on a loopback
 * port so the ordinary PostgreSQL driver and migrations work unchanged. Data is
 * kept in `dataDir`; without one it lives in memory (tests).
 *
 * PGlite is a single session: the server queues queries from its connections
 * and keeps a transaction's queries together, and callers use a pool of one.
 * A few connections are allowed so that a closed one can be replaced at once.
 */
export async function startEmbeddedPostgres(options: { dataDir?: string; logger: Logger }): Promise<EmbeddedPostgres> {
  let dataDir: string | undefined;
  let lock: { release(): void } | undefined;
  if (options.dataDir) {
    dataDir = path.resolve(options.dataDir, 'pglite');
    await mkdir(dataDir, { recursive: true });
    // PGlite's files take one process at a time: a second one on the same DATA_DIR is refused before it opens them.
    lock = lockDataDir(path.resolve(options.dataDir));
  }
  const db = await PGlite.create({ dataDir, extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  options.logger.info({ dataDir: dataDir ?? 'memory', url }, 'embedded PostgreSQL (PGlite) started');
  return {
    url,
    async close() {
      await server.stop();
      await db.close();
      lock?.release();
    },
  };
}
