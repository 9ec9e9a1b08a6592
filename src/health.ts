import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadAvatar } from './characters/avatars.js';
import type { Deps } from './deps.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics/metrics.js';

/** A named readiness check: resolves when healthy, throws (or rejects) with the reason when not. */
export type HealthCheck = () => Promise<void>;

/**
 * The operations endpoint of a process, on one port:
 * - GET /healthz and /readyz: 200 with every check's state when all pass, 503
 *   when one fails (for Docker health checks and load balancers);
 * - GET /livez: 200 while the process runs (no checks);
 * - GET /metrics: the Prometheus text exposition of `metrics`, when given;
 * - GET /avatars/<character id>.png: a character's stored picture, when `avatarsFrom` (DATA_DIR) is given
 *   (PUBLIC_URL set), for the links webhook posts carry.
 */
export async function startHealthServer(options: {
  port: number;
  /** Default: loopback only. */
  host?: string;
  checks: Record<string, HealthCheck>;
  logger: Logger;
  timeoutMs?: number;
  metrics?: Metrics;
  /** DATA_DIR, whose avatars/ this serves. */
  avatarsFrom?: string;
}): Promise<Server> {
  const server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (request.method !== 'GET') return void response.writeHead(405, { allow: 'GET' }).end();
    if (path === '/livez') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    if (path === '/healthz' || path === '/readyz') {
      void runChecks(options.checks, options.timeoutMs ?? 3000).then((report) => {
        response.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
        response.end(JSON.stringify(report));
      });
      return;
    }
    if (path === '/metrics' && options.metrics) {
      options.metrics.expose().then(
        ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
        (error: unknown) => {
          options.logger.warn({ err: error }, 'metrics could not be collected');
          response.writeHead(500).end();
        },
      );
      return;
    }
    const avatar = path ? /^\/avatars\/([0-9a-f-]{36})\.png$/.exec(path) : null;
    if (avatar && options.avatarsFrom) {
      loadAvatar(options.avatarsFrom, avatar[1]!).then(
        (png) => {
          if (!png) return void response.writeHead(404).end();
          response.writeHead(200, {
            'content-type': 'image/png',
            'content-length': String(png.length),
            'cache-control': 'public, max-age=86400',
          });
          response.end(png);
        },
        // Not a character id (loadAvatar checks), or the disk failed.
        () => response.writeHead(404).end(),
      );
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', resolve);
  });
  const { address: host, port } = server.address() as AddressInfo;
  options.logger.info({ host, port }, 'health and metrics endpoint listening on /healthz, /livez, /readyz, /metrics');
  return server;
}

export async function runChecks(
  checks: Record<string, HealthCheck>,
  timeoutMs: number,
): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref()),
        ]);
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, error instanceof Error ? error.message : String(error)] as const;
      }
    }),
  );
  return { ok: entries.every(([, state]) => state === 'ok'), checks: Object.fromEntries(entries) };
}

/** The checks every process shares: the database answers, and so does Redis when the queues live there. */
export function dependencyChecks(deps: Deps): Record<string, HealthCheck> {
  return {
    database: async () => {
      await deps.database.orm.em.fork().execute('select 1');
    },
    ...(deps.config.redis.url
      ? {
          redis: async () => {
            await deps.queue.counts('health');
          },
        }
      : {}),
  };
}

/** Fails while the process is shutting down, so that /readyz turns 503 before it stops. */
export function acceptingCheck(stopping: () => boolean): HealthCheck {
  return async () => {
    if (stopping()) throw new Error('shutting down');
  };
}
