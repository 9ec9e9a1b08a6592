import { afterAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runChecks, startHealthServer } from '../src/health.js';
import { createLogger } from '../src/logger.js';

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
});
