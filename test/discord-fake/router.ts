import type { IncomingHttpHeaders } from 'node:http';
import type { FakeContext } from './context.js';
import type { RecordedFile } from './store.js';

export interface RouteRequest {
  method: string;
  /** The route template, e.g. '/channels/:channelId/messages'. */
  route: string;
  /** The path below /api/v10. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON, or `payload_json` of a multipart body. */
  body: any;
  files: RecordedFile[];
  headers: IncomingHttpHeaders;
}

export interface RouteResult {
  /** Default 200 with a body, 204 without. */
  status?: number;
  body?: unknown;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** 'bot' (default): Authorization: Bot <token> required. 'none': webhook-token and interaction routes. */
  auth?: 'bot' | 'none';
  handle(request: RouteRequest, ctx: FakeContext): RouteResult | Promise<RouteResult>;
}

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'wrong-method'; path: string }
  | { kind: 'none' };

/** Finds the route for a path; literal segments win over parameters ('/users/@me' before '/users/:userId'). */
export function matchRoute(routes: Route[], method: string, path: string): RouteMatch {
  const segments = path.split('/').filter(Boolean);
  let best: { route: Route; params: Record<string, string>; literals: number } | undefined;
  let pathMatched: string | undefined;
  for (const route of routes) {
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const matches = pattern.every((part, index) => {
      const segment = decodeURIComponent(segments[index]!);
      if (part.startsWith(':')) {
        params[part.slice(1)] = segment;
        return segment.length > 0;
      }
      literals++;
      return part === segment;
    });
    if (!matches) continue;
    pathMatched = route.path;
    if (route.method !== method) continue;
    if (!best || literals > best.literals) best = { route, params, literals };
  }
  if (best) return { kind: 'found', route: best.route, params: best.params };
  return pathMatched ? { kind: 'wrong-method', path: pathMatched } : { kind: 'none' };
}

/** The rate-limit major parameter of a call: channel, guild, or webhook id + token. */
export function majorParameter(params: Record<string, string>): string {
  if (params.webhookId) return `${params.webhookId}/${params.token ?? ''}`;
  return params.channelId ?? params.guildId ?? params.interactionId ?? '';
}
