import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { GatewayIntentBits, GatewayOpcodes } from 'discord-api-types/v10';
import { WebSocket, WebSocketServer } from 'ws';
import { randomToken } from './ids.js';
import type { Json } from './payloads.js';

interface Session {
  id: string;
  seq: number;
  intents: number;
  socket: WebSocket | null;
  /** Dispatches kept for RESUME (the last 1000). */
  sent: { s: number; t: string; d: Json }[];
}

export interface GatewayDeps {
  token: () => string;
  botUserId: string;
  heartbeatIntervalMs: number;
  /** Intents the app may not use (Discord closes with 4014). */
  disallowedIntents: number;
  url: () => string;
  /** READY's data (without session fields) and the GUILD_CREATEs that follow it. */
  ready: () => { data: Json; guilds: Json[] };
  onChange: () => void;
}

/** Counters a test can wait on. */
export interface GatewayStats {
  connections: number;
  identifies: number;
  resumes: number;
  heartbeats: number;
  /** Close codes of every gateway connection that ended (sent by either side). */
  closeCodes: number[];
}

const GUILD_EVENTS = /^(GUILD_|CHANNEL_|THREAD_)/;

/**
 * Discord's gateway over WebSocket, JSON encoding without compression:
 * HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME with replay,
 * sequence numbers, and intent filtering of dispatches.
 */
export class FakeGateway {
  readonly stats: GatewayStats = { connections: 0, identifies: 0, resumes: 0, heartbeats: 0, closeCodes: [] };
  readonly #deps: GatewayDeps;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sessions = new Map<string, Session>();
  readonly #sockets = new Set<WebSocket>();

  constructor(deps: GatewayDeps) {
    this.#deps = deps;
  }

  handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#onConnection(ws, request));
  }

  /** Sends an event to every session whose intents cover it (disconnected sessions keep it for RESUME). */
  dispatch(event: string, data: Json): void {
    for (const session of this.#sessions.values()) {
      const visible = this.#visible(session, event, data);
      if (visible) this.#send(session, event, visible);
    }
  }

  /** Sessions with a connection (identified or resumed, not yet closed). */
  get liveSessions(): number {
    return [...this.#sessions.values()].filter((session) => session.socket !== null).length;
  }

  /** Closes every connection as a network failure would (or with `code`); sessions stay resumable. */
  dropConnections(code?: number): void {
    for (const socket of this.#sockets) {
      if (code === undefined) socket.terminate();
      else socket.close(code, 'dropped by the fake');
    }
  }

  /** Sends op 7 Reconnect: the client should reconnect and RESUME. */
  requestReconnect(): void {
    for (const socket of this.#sockets) socket.send(JSON.stringify({ op: GatewayOpcodes.Reconnect, d: null, s: null, t: null }));
  }

  /** Sends op 9 Invalid Session; with `resumable: false` the sessions are forgotten and the client must IDENTIFY again. */
  invalidateSessions(resumable = false): void {
    for (const socket of this.#sockets) socket.send(JSON.stringify({ op: GatewayOpcodes.InvalidSession, d: resumable, s: null, t: null }));
    if (!resumable) this.#sessions.clear();
  }

  close(): void {
    for (const socket of this.#sockets) socket.close(1001, 'fake Discord closed');
    for (const socket of this.#sockets) socket.terminate();
    this.#wss.close();
  }

  #onConnection(ws: WebSocket, request: IncomingMessage): void {
    this.#sockets.add(ws);
    this.stats.connections++;
    const query = new URL(request.url ?? '/', 'ws://127.0.0.1').searchParams;
    if (query.get('v') !== '10') {
      ws.close(4012, 'Invalid API version');
      return;
    }
    if ((query.get('encoding') ?? 'json') !== 'json') {
      ws.close(4002, 'Only JSON encoding is supported by the fake');
      return;
    }
    if (query.has('compress')) {
      ws.close(4000, 'The fake does not support transport compression');
      return;
    }
    let session: Session | undefined;
    ws.on('message', (raw) => {
      let payload: { op?: number; d?: any };
      try {
        payload = JSON.parse(raw.toString());
      } catch {
        return ws.close(4002, 'Error while decoding payload.');
      }
      switch (payload.op) {
        case GatewayOpcodes.Heartbeat:
          this.stats.heartbeats++;
          ws.send(JSON.stringify({ op: GatewayOpcodes.HeartbeatAck, d: null, s: null, t: null }));
          break;
        case GatewayOpcodes.Identify:
          if (session) return ws.close(4005, 'Already authenticated.');
          session = this.#identify(ws, payload.d);
          break;
        case GatewayOpcodes.Resume:
          if (session) return ws.close(4005, 'Already authenticated.');
          session = this.#resume(ws, payload.d);
          break;
        case GatewayOpcodes.PresenceUpdate:
        case GatewayOpcodes.VoiceStateUpdate:
        case GatewayOpcodes.RequestGuildMembers:
        case GatewayOpcodes.RequestSoundboardSounds:
          if (!session) return ws.close(4003, 'Not authenticated.');
          break;
        default:
          return ws.close(session ? 4001 : 4003, session ? 'Unknown opcode.' : 'Not authenticated.');
      }
      this.#deps.onChange();
    });
    ws.on('close', (code) => {
      this.#sockets.delete(ws);
      this.stats.closeCodes.push(code);
      if (session && session.socket === ws) {
        session.socket = null;
        // Closing with 1000/1001 ends the session on Discord; anything else keeps it resumable.
        if (code === 1000 || code === 1001) this.#sessions.delete(session.id);
      }
      this.#deps.onChange();
    });
    ws.send(JSON.stringify({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.#deps.heartbeatIntervalMs }, s: null, t: null }));
  }

  #identify(ws: WebSocket, d: { token?: string; intents?: unknown; shard?: [number, number] } | undefined): Session | undefined {
    if (!d || d.token?.replace(/^Bot\s+/i, '') !== this.#deps.token()) {
      ws.close(4004, 'Authentication failed.');
      return undefined;
    }
    if (typeof d.intents !== 'number' || !Number.isInteger(d.intents) || d.intents < 0) {
      ws.close(4013, 'Invalid intent(s).');
      return undefined;
    }
    if (d.intents & this.#deps.disallowedIntents) {
      ws.close(4014, 'Disallowed intent(s).');
      return undefined;
    }
    const shard = d.shard ?? [0, 1];
    if (shard[1] !== 1 || shard[0] !== 0) {
      ws.close(4010, 'Invalid shard.');
      return undefined;
    }
    const session: Session = { id: randomToken(16), seq: 0, intents: d.intents, socket: ws, sent: [] };
    this.#sessions.set(session.id, session);
    this.stats.identifies++;
    const { data, guilds } = this.#deps.ready();
    this.#send(session, 'READY', { ...data, session_id: session.id, resume_gateway_url: this.#deps.url(), shard: shard });
    for (const guild of guilds) this.#send(session, 'GUILD_CREATE', guild);
    return session;
  }

  #resume(ws: WebSocket, d: { token?: string; session_id?: string; seq?: number } | undefined): Session | undefined {
    if (!d || d.token?.replace(/^Bot\s+/i, '') !== this.#deps.token()) {
      ws.close(4004, 'Authentication failed.');
      return undefined;
    }
    const session = d.session_id ? this.#sessions.get(d.session_id) : undefined;
    if (!session) {
      ws.send(JSON.stringify({ op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null }));
      return undefined;
    }
    session.socket?.terminate();
    session.socket = ws;
    this.stats.resumes++;
    for (const event of session.sent) {
      if (event.s > (d.seq ?? 0)) ws.send(JSON.stringify({ op: GatewayOpcodes.Dispatch, ...event }));
    }
    this.#send(session, 'RESUMED', {});
    return session;
  }

  #send(session: Session, t: string, d: Json): void {
    const s = ++session.seq;
    session.sent.push({ s, t, d });
    if (session.sent.length > 1000) session.sent.shift();
    if (session.socket?.readyState === WebSocket.OPEN) session.socket.send(JSON.stringify({ op: GatewayOpcodes.Dispatch, t, s, d }));
  }

  /** The event as this session may see it, or undefined when its intents do not cover it. */
  #visible(session: Session, event: string, data: Json): Json | undefined {
    const has = (bit: number) => (session.intents & bit) === bit;
    if (event.startsWith('MESSAGE_REACTION_')) {
      return has(data.guild_id ? GatewayIntentBits.GuildMessageReactions : GatewayIntentBits.DirectMessageReactions) ? data : undefined;
    }
    if (event.startsWith('MESSAGE_')) {
      const inGuild = Boolean(data.guild_id);
      if (!has(inGuild ? GatewayIntentBits.GuildMessages : GatewayIntentBits.DirectMessages)) return undefined;
      if (event === 'MESSAGE_DELETE' || !inGuild || has(GatewayIntentBits.MessageContent)) return data;
      const author = data.author as { id: string } | undefined;
      const mentions = (data.mentions as { id: string }[] | undefined) ?? [];
      const botId = this.#deps.botUserId;
      if (author?.id === botId || mentions.some((user) => user.id === botId)) return data;
      // Without the Message Content intent Discord blanks content, embeds, attachments and components.
      return { ...data, content: '', embeds: [], attachments: [], components: [], poll: undefined };
    }
    if (event === 'WEBHOOKS_UPDATE') return has(GatewayIntentBits.GuildWebhooks) ? data : undefined;
    if (event === 'TYPING_START')
      return has(data.guild_id ? GatewayIntentBits.GuildMessageTyping : GatewayIntentBits.DirectMessageTyping) ? data : undefined;
    if (GUILD_EVENTS.test(event)) return has(GatewayIntentBits.Guilds) ? data : undefined;
    return data;
  }
}
