import { createServer, type Server } from 'node:http';
import type { Deps } from './deps.js';
import type { Logger } from './logger.js';

/** A named readiness check: resolves when healthy, throws (or rejects) with the reason when not. */
export type HealthCheck = () => Promise<void>;

/**
 * GET /healthz answers 200 with every check's state when all pass, 503 when
 * one fails. For Docker health checks and load balancers.
 */
export async function startHealthServer(options: {
  port: number;
  host?: string;
  checks: Record<string, HealthCheck>;
  logger: Logger;
  timeoutMs?: number;
}): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/healthz') {
      response.writeHead(404).end();
      return;
    }
    void runChecks(options.checks, options.timeoutMs ?? 3000).then((report) => {
      response.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify(report));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', resolve);
  });
  options.logger.info({ port: options.port }, 'health endpoint listening on /healthz');
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

/** The checks every process shares: the database answers, and so does the queue backend. */
export function dependencyChecks(deps: Deps): Record<string, HealthCheck> {
  return {
    database: async () => {
      await deps.database.orm.em.fork().execute('select 1');
    },
    queue: async () => {
      await deps.queue.counts('health');
    },
  };
}
