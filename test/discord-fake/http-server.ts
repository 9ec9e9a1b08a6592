import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FakeContext } from './context.js';
import { DiscordError, methodNotAllowed, notFound, unauthorized } from './errors.js';
import type { RateLimiter } from './rate-limits.js';
import { majorParameter, matchRoute, type Route, type RouteRequest } from './router.js';
import type { RecordedFile } from './store.js';

/** One REST call as the fake saw it. */
export interface RecordedRequest {
  /** 1, 2, 3… in order of arrival. */
  seq: number;
  method: string;
  /** The route template, e.g. '/webhooks/:webhookId/:token' ('' when no route matched). */
  route: string;
  /** The path below /api/v10, e.g. '/channels/123/messages'. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, or `payload_json` of a multipart body. */
  body: any;
  files: RecordedFile[];
  headers: { authorization?: string; contentType?: string; userAgent?: string; auditLogReason?: string };
  /** Date.now() on arrival. */
  at: number;
  /** performance.now() on arrival (monotonic, for measuring gaps). */
  time: number;
  /** The status answered (0 while in flight). */
  status: number;
  response?: unknown;
  /** Answered by a failNext() script. */
  injected?: boolean;
  /** Answered 429 because the call went over its bucket. */
  overLimit?: boolean;
}

export interface HttpServerDeps {
  ctx: FakeContext;
  routes: Route[];
  limiter: RateLimiter;
  token: () => string;
  requests: RecordedRequest[];
  onUpgrade: (request: IncomingMessage, socket: Socket, head: Buffer) => void;
}

const API_PREFIX = '/api/v10';

/** The HTTP side of the fake: REST under /api/v10, attachment downloads, and the gateway upgrade. */
export class FakeHttpServer {
  readonly #server: Server;
  readonly #deps: HttpServerDeps;
  #port = 0;

  constructor(deps: HttpServerDeps) {
    this.#deps = deps;
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#server.on('upgrade', (request, socket, head) => deps.onUpgrade(request, socket as Socket, head));
  }

  get port(): number {
    return this.#port;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method === 'GET' && url.pathname.startsWith('/attachments/')) return this.#serveAttachment(url, response);
    const raw = await readBody(request);
    const method = (request.method ?? 'GET').toUpperCase();
    const path = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    const { ctx, limiter, routes, requests } = this.#deps;
    const header = (name: string) => (request.headers[name] as string | undefined) ?? undefined;
    const record: RecordedRequest = {
      seq: requests.length + 1,
      method,
      route: '',
      path,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      files: [],
      headers: {
        ...(header('authorization') ? { authorization: header('authorization') } : {}),
        ...(header('content-type') ? { contentType: header('content-type') } : {}),
        ...(header('user-agent') ? { userAgent: header('user-agent') } : {}),
        ...(header('x-audit-log-reason') ? { auditLogReason: decodeURIComponent(header('x-audit-log-reason')!) } : {}),
      },
      at: Date.now(),
      time: performance.now(),
      status: 0,
    };
    requests.push(record);
    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      const parsed = await parseBody(raw, record.headers.contentType);
      record.body = parsed.body;
      record.files = parsed.files;
      if (!url.pathname.startsWith(`${API_PREFIX}/`)) throw notFound();
      const match = matchRoute(routes, method, path);
      if (match.kind === 'none') throw notFound();
      if (match.kind === 'wrong-method') {
        record.route = match.path;
        throw methodNotAllowed();
      }
      record.route = match.route.path;
      if (match.route.auth !== 'none' && header('authorization') !== `Bot ${this.#deps.token()}`) throw unauthorized();
      const major = majorParameter(match.params);
      const failure = limiter.takeFailure(record);
      if (failure) {
        record.injected = true;
        ({ status, headers, body } = limiter.failureResponse(failure, method, record.route, major));
      } else {
        const decision = limiter.consume(method, record.route, major, { exemptFromGlobal: match.route.auth === 'none' });
        if (decision.retryAfterMs !== undefined) {
          record.overLimit = true;
          ({ status, headers, body } = limiter.limitedResponse(decision));
        } else {
          headers = decision.headers;
          const routeRequest: RouteRequest = {
            method,
            route: record.route,
            path,
            params: match.params,
            query: url.searchParams,
            body: record.body,
            files: record.files,
            headers: request.headers,
          };
          const result = await match.route.handle(routeRequest, ctx);
          body = result.body;
          status = result.status ?? (body === undefined ? 204 : 200);
        }
      }
    } catch (error) {
      if (error instanceof DiscordError) {
        status = error.status;
        body = error.body();
      } else {
        console.error('fake Discord: a route failed', error);
        status = 500;
        body = { message: '500: Internal Server Error', code: 0, fake_error: String((error as Error)?.stack ?? error) };
      }
    }
    record.status = status;
    record.response = body;
    if (body === undefined) {
      response.writeHead(status, headers).end();
    } else {
      response.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
    ctx.signal.notify();
  }

  #serveAttachment(url: URL, response: ServerResponse): void {
    const id = url.pathname.split('/')[3] ?? '';
    const file = this.#deps.ctx.store.files.get(id);
    if (file && !this.#deps.ctx.cdn.serves(url)) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('This content is no longer available.');
      return;
    }
    if (!file) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    response.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.data.length) }).end(file.data);
  }
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** JSON, or multipart/form-data the way discord.js sends files: `payload_json` plus `files[n]` parts. */
async function parseBody(raw: Buffer, contentType: string | undefined): Promise<{ body: unknown; files: RecordedFile[] }> {
  if (raw.length === 0) return { body: undefined, files: [] };
  if (contentType?.startsWith('multipart/form-data')) {
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
    const files: RecordedFile[] = [];
    let body: Record<string, unknown> = {};
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') body = { ...body, ...parseJson(value) };
        else body[field] = value;
      } else {
        files.push({
          field,
          filename: value.name,
          contentType: value.type || 'application/octet-stream',
          data: Buffer.from(await value.arrayBuffer()),
        });
      }
    }
    return { body, files };
  }
  return { body: parseJson(raw.toString('utf8')), files: [] };
}

function parseJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new DiscordError(400, 50109, 'The request body contains invalid JSON.');
  }
}
