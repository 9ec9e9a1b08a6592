import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the fake does for one request. */
export interface Script {
  /** Streamed reply, split into these chunks (default: words of `text`). */
  text?: string;
  chunks?: string[];
  chunkDelayMs?: number;
  /** Answer with this status and the vendor's error body instead. */
  status?: number;
  message?: string;
  headers?: Record<string, string>;
  /** Never answer (for timeouts). */
  hang?: boolean;
  /** Send this many chunks, then stall forever. */
  stallAfter?: number;
  usage?: { input: number; output: number };
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: any;
  headers: IncomingMessage['headers'];
  at: number;
  /** performance.now() when the request line arrived (before the body was read). */
  arrivedAt: number;
}

export type Handler = (request: RecordedRequest, script: Script, response: ServerResponse) => Promise<void> | void;

/** A scriptable HTTP server on 127.0.0.1 that speaks one vendor's protocol. */
export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  /** Sockets that closed while a response was still streaming (the client aborted). */
  abortedResponses = 0;
  #scripts: Script[] = [];
  #default: Script = { text: 'Hello there!' };
  #respond: ((request: RecordedRequest) => Script | undefined) | undefined;
  #server: Server;
  #sockets = new Set<Socket>();
  url = '';

  constructor(private readonly routes: Record<string, Handler>) {
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  async start(pathPrefix = ''): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${pathPrefix}`;
    return this;
  }

  /** The reply to every request from now on (until next/fail scripts are queued). */
  reply(text: string, options: Omit<Script, 'text'> = {}): this {
    this.#default = { ...options, text };
    return this;
  }

  /** Computes the reply from the request (for example, from whose prompt it is), when no next() script is queued. */
  replyWith(respond: (request: RecordedRequest) => Script | undefined): this {
    this.#respond = respond;
    return this;
  }

  /** Scripts for the next requests, one each, before falling back to reply(). */
  next(...scripts: Script[]): this {
    this.#scripts.push(...scripts);
    return this;
  }

  /** Forgets queued scripts (between tests). */
  reset(): this {
    this.#scripts = [];
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const arrivedAt = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (request.url ?? '/').split('?')[0]!;
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path,
      body: raw ? safeJson(raw) : undefined,
      headers: request.headers,
      at: Date.now(),
      arrivedAt,
    };
    this.requests.push(recorded);
    const route = Object.entries(this.routes).find(([pattern]) => pattern === `${recorded.method} ${path}` || pattern === path);
    if (!route) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${path}` } }));
      return;
    }
    const script = this.#scripts.shift() ?? this.#respond?.(recorded) ?? this.#default;
    if (script.hang) return;
    response.on('close', () => {
      if (!response.writableEnded) this.abortedResponses += 1;
    });
    await route[1](recorded, script, response);
  }
}

export function chunksOf(script: Script): string[] {
  if (script.chunks) return script.chunks;
  return (script.text ?? '').split(/(?<= )/);
}

export async function streamChunks(
  response: ServerResponse,
  script: Script,
  write: (chunk: string, index: number) => string,
): Promise<boolean> {
  const chunks = chunksOf(script);
  for (const [index, chunk] of chunks.entries()) {
    if (script.stallAfter !== undefined && index >= script.stallAfter) return false;
    if (response.destroyed) return false;
    response.write(write(chunk, index));
    if (script.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, script.chunkDelayMs));
  }
  return !response.destroyed;
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
