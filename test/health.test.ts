import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { createDeps } from '../src/deps.js';
import { dependencyChecks, runChecks, startHealthServer } from '../src/health.js';
import { createLogger } from '../src/logger.js';
import { createTestDatabase } from './support/database.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('health endpoint', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('reports each check and fails when one fails or hangs', async () => {
    const report = await runChecks(
      {
        database: async () => {},
        queue: async () => {
          throw new Error('connection refused');
        },
        discord: () => new Promise(() => {}),
      },
      100,
    );
    expect(report).toEqual({
      ok: false,
      checks: { database: 'ok', queue: 'connection refused', discord: 'no answer in 100 ms' },
    });
  });

  it('listens on loopback unless HEALTH_HOST says otherwise', async () => {
    expect(loadConfig({}).healthHost).toBe('127.0.0.1');
    expect(loadConfig({ HEALTH_HOST: '0.0.0.0' }).healthHost).toBe('0.0.0.0');
    const local = await startHealthServer({ port: 0, logger: createLogger('silent'), checks: {} });
    expect((local.address() as AddressInfo).address).toBe('127.0.0.1');
    local.close();
    const every = await startHealthServer({
      port: 0,
      host: loadConfig({ HEALTH_HOST: '0.0.0.0' }).healthHost,
      logger: createLogger('silent'),
      checks: {},
    });
    expect((every.address() as AddressInfo).address).toBe('0.0.0.0');
    every.close();
  });

  it('serves 200 when healthy and 503 when not', async () => {
    let healthy = true;
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      logger: createLogger('silent'),
      checks: {
        database: async () => {
          if (!healthy) throw new Error('down');
        },
      },
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, checks: { database: 'ok' } });
    healthy = false;
    const failing = await fetch(url);
    expect(failing.status).toBe(503);
    expect((await fetch(url.replace('/healthz', '/other'))).status).toBe(404);
  });

  it('answers 503 naming Redis when REDIS_URL points where nothing listens', async () => {
    const db = await createTestDatabase({ embeddingDimension: 64 });
    await db.orm.close();
    const logger = createLogger('silent');
    const deps = await createDeps(
      loadConfig({
        DATABASE_URL: db.url,
        ...(inject('embedded') ? { DATABASE_POOL_SIZE: '1' } : {}),
        REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
        EMBEDDER: 'hashing',
        EMBEDDING_DIMENSION: '64',
        LOG_LEVEL: 'silent',
      }),
      logger,
    );
    // While Redis is away the queue's calls wait for a connection: the check's timeout answers for them.
    const health = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      logger,
      checks: dependencyChecks(deps),
      metrics: deps.metrics,
      timeoutMs: 500,
    });
    try {
      const base = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
      const response = await fetch(`${base}/healthz`);
      expect(response.status).toBe(503);
      const report = (await response.json()) as { ok: boolean; checks: Record<string, string> };
      expect(report.ok).toBe(false);
      expect(report.checks.database).toBe('ok');
      expect(report.checks.redis).not.toBe('ok');
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect((await fetch(`${base}/livez`)).status).toBe(200);
      // Metrics still answer, with the queue backend reported down.
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^dreamchat_queue_up 0$/m);
    } finally {
      health.close();
      await deps.close();
      await db.close();
    }
  });
});
