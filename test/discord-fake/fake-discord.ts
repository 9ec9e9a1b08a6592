import type { APIRole, APIUser } from 'discord-api-types/v10';
import type { FakeCdn } from './cdn.js';
import type { FakeContext } from './context.js';
import type { FakeGateway, GatewayStats } from './gateway.js';
import * as setup from './guild-setup.js';
import type { FakeHttpServer, RecordedRequest } from './http-server.js';
import { channelPayload, makeRole, type Json } from './payloads.js';
import type { FailureRule, RateLimiter, RateLimitMode } from './rate-limits.js';
import { gatewayUrl } from './routes-app.js';
import type { FakeStore, StoredMessage } from './store.js';
import { UserActions } from './user-actions.js';

export interface FakeDiscordOptions {
  botUser?: { id?: string; username?: string; globalName?: string | null; avatar?: string | null };
  applicationId?: string;
  /** The bot token the fake accepts (default: a random one in Discord's shape). */
  token?: string;
  /** HELLO's heartbeat_interval (default 41250 ms, as Discord). */
  heartbeatIntervalMs?: number;
  /** Discord's 3 s to answer an interaction. */
  interactionTimeoutMs?: number;
  /** Discord's 15 min interaction token lifetime. */
  interactionTokenTtlMs?: number;
  /** Default timeout of waitFor helpers (20 s). */
  waitTimeoutMs?: number;
  rateLimits?: RateLimitMode;
  /** Intents the app is not approved for: IDENTIFY with them closes 4014. */
  disallowedIntents?: number;
  /** How long an attachment link is signed for (Discord: about a day). */
  attachmentTtlMs?: number;
}

export interface RecordedDispatch {
  t: string;
  d: Json;
  at: number;
}

/** Matches recorded REST calls: fields must all match; `since` skips calls with seq ≤ since. */
export type RequestMatch =
  | { method?: string; route?: string; path?: string; status?: number; since?: number }
  | ((request: RecordedRequest) => boolean);

/**
 * A fake Discord on 127.0.0.1 that the real discord.js client logs into.
 * Build a world (guilds, channels, users), let people act (UserActions),
 * and assert on what the bot did (messages, requests, interactions).
 */
export class FakeDiscord extends UserActions {
  readonly token: string;
  readonly botUser: APIUser;
  readonly applicationId: string;
  /** Every REST call, in order of arrival. */
  readonly requests: RecordedRequest[];
  /** Every gateway dispatch sent (before intent filtering), in order. */
  readonly dispatches: RecordedDispatch[];
  readonly store: FakeStore;
  readonly #gateway: FakeGateway;
  readonly #http: FakeHttpServer;
  readonly #limiter: RateLimiter;
  readonly #started = Date.now();

  /** Use startFakeDiscord(). */
  constructor(parts: FakeParts) {
    super(parts.ctx);
    this.token = parts.token;
    this.store = parts.ctx.store;
    this.botUser = this.store.botUser;
    this.applicationId = this.store.applicationId;
    this.requests = parts.requests;
    this.dispatches = parts.dispatches;
    this.#gateway = parts.gateway;
    this.#http = parts.http;
    this.#limiter = parts.limiter;
  }

  /** `http://127.0.0.1:PORT/api`, for `new Client({ rest: { api } })` and `new REST({ api })`. */
  get restUrl(): string {
    return `http://127.0.0.1:${this.#http.port}/api`;
  }

  /** The gateway URL `/gateway/bot` hands out. */
  get gatewayUrl(): string {
    return gatewayUrl(this.ctx);
  }

  /** Gateway counters: connections, identifies, resumes, heartbeats, close codes. */
  get gateway(): GatewayStats & { liveSessions: number } {
    return { ...this.#gateway.stats, liveSessions: this.#gateway.liveSessions };
  }

  // ── the world ────────────────────────────────────────────────────────────

  addUser(options: { username: string; globalName?: string | null; bot?: boolean; avatar?: string | null; id?: string }): APIUser {
    return setup.addUser(this.ctx, options);
  }

  addGuild(options: setup.GuildOptions = {}) {
    return setup.addGuild(this.ctx, options);
  }

  addMember(guildId: string, userId: string, options: { roles?: string[]; nick?: string } = {}) {
    this.store.user(userId);
    return setup.addMember(this.ctx, this.store.guild(guildId), userId, options);
  }

  addRole(guildId: string, options: { name: string; permissions: bigint }): APIRole {
    const guild = this.store.guild(guildId);
    const role = makeRole({
      id: this.store.ids.next(),
      name: options.name,
      permissions: options.permissions,
      position: guild.roles.length,
    });
    guild.roles.push(role);
    this.ctx.dispatch('GUILD_ROLE_CREATE', { guild_id: guild.id, role });
    return role;
  }

  /** Changes the bot's role permissions in a guild (e.g. take Manage Webhooks away). */
  setBotPermissions(guildId: string, permissions: bigint): void {
    const guild = this.store.guild(guildId);
    const role = guild.roles.find((candidate) => candidate.id === guild.botRoleId)!;
    role.permissions = permissions.toString();
    this.ctx.dispatch('GUILD_ROLE_UPDATE', { guild_id: guild.id, role });
  }

  addTextChannel(guildId: string, options: setup.ChannelOptions = {}) {
    return setup.addTextChannel(this.ctx, guildId, options);
  }

  /** A thread someone (default: the guild owner) opened under a text channel; dispatches THREAD_CREATE. */
  addThread(parentId: string, options: setup.ThreadOptions = {}) {
    const parent = this.store.channel(parentId);
    return setup.createThread(this.ctx, parentId, { ownerId: this.store.guild(parent.guildId!).ownerId, ...options });
  }

  /**
   * A server admin turns a channel's age restriction on or off in Discord's
   * settings: CHANNEL_UPDATE is dispatched (threads show their parent's flag).
   */
  setChannelNsfw(channelId: string, nsfw: boolean): void {
    const channel = this.store.channel(channelId);
    if (!channel.guildId || channel.thread) throw new Error(`channel ${channelId} is not a server channel with its own age restriction`);
    channel.nsfw = nsfw;
    this.ctx.dispatch('CHANNEL_UPDATE', channelPayload(this.store, channel));
    this.ctx.signal.notify();
  }

  addDmChannel(userId: string) {
    return setup.addDmChannel(this.ctx, userId);
  }

  /** Sends any dispatch as is (for events the helpers do not cover). */
  dispatch(event: string, data: Json): void {
    this.ctx.dispatch(event, data);
  }

  /** An admin deletes a webhook: later calls with it get 404 Unknown Webhook (10015). */
  deleteWebhook(webhookId: string): void {
    const webhook = this.store.webhook(webhookId);
    webhook.deleted = true;
    this.ctx.dispatch('WEBHOOKS_UPDATE', { guild_id: webhook.guildId, channel_id: webhook.channelId });
  }

  /**
   * The CDN's clock, which signs attachment links and refuses them past their expiry: `set(time)`, `advance(ms)`,
   * `reset()`. E.g. `set(Date.now() - 25 h)` before an upload makes its link one that expired an hour ago.
   */
  get cdnClock(): Pick<FakeCdn, 'now' | 'set' | 'advance' | 'reset'> {
    return this.ctx.cdn;
  }

  // ── what happened ────────────────────────────────────────────────────────

  /** Visible messages of a channel or thread, oldest first (deleted and ephemeral ones left out unless asked). */
  messages(channelId: string, options: { includeDeleted?: boolean; includeEphemeral?: boolean } = {}): StoredMessage[] {
    return this.store.listMessages(channelId, options);
  }

  /** Messages posted through a channel webhook (not interaction replies) in a channel or thread. */
  webhookMessages(channelId: string): StoredMessage[] {
    return this.messages(channelId).filter((message) => message.webhook_id && message.webhook_id !== this.applicationId);
  }

  message(messageId: string): StoredMessage | undefined {
    return this.store.messages.get(messageId);
  }

  webhooks(channelId?: string) {
    return [...this.store.webhooks.values()].filter((webhook) => !webhook.deleted && (!channelId || webhook.channelId === channelId));
  }

  commands(guildId?: string) {
    return this.store.commands.get(guildId ?? 'global') ?? [];
  }

  requestsTo(match: RequestMatch): RecordedRequest[] {
    return this.requests.filter(matcher(match));
  }

  // ── scripting Discord ────────────────────────────────────────────────────

  /** The next matching call(s) fail: 429 with retry_after, 5xx, or any error. */
  failNext(rule: FailureRule): void {
    this.#limiter.failNext(rule);
  }

  pendingFailures(): number {
    return this.#limiter.pendingFailures();
  }

  /** Closes gateway connections like a network failure (or with a close code); clients resume. */
  dropConnections(code?: number): void {
    this.#gateway.dropConnections(code);
  }

  /** Sends op 7 Reconnect to every client. */
  requestReconnect(): void {
    this.#gateway.requestReconnect();
  }

  /** Sends op 9 Invalid Session. */
  invalidateSessions(resumable = false): void {
    this.#gateway.invalidateSessions(resumable);
  }

  // ── waiting ──────────────────────────────────────────────────────────────

  /** Resolves with the first truthy `check()`, re-checked on every change; fails after the timeout listing recent calls. */
  waitFor<T>(check: () => T | null | undefined | false, timeoutMs?: number, label = 'a condition'): Promise<T> {
    const ms = timeoutMs ?? this.ctx.timings.waitTimeoutMs;
    return this.ctx.signal.until(check, ms, () => `Waited ${ms} ms for ${label}.\n${this.describeRecent()}`);
  }

  waitForRequest(match: RequestMatch, timeoutMs?: number): Promise<RecordedRequest> {
    const test = matcher(match);
    return this.waitFor(
      () => this.requests.find((request) => request.status !== 0 && test(request)),
      timeoutMs,
      `a REST call matching ${describeMatch(match)}`,
    );
  }

  /** The first visible message in a channel matching `predicate` (already there or yet to come). */
  waitForMessage(
    channelId: string,
    predicate: (message: StoredMessage) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<StoredMessage> {
    return this.waitFor(() => this.messages(channelId).find(predicate), timeoutMs, `a message in channel ${channelId}`);
  }

  /** Resolves once a client has identified (READY and the GUILD_CREATEs are sent). */
  async waitForIdentify(timeoutMs?: number): Promise<void> {
    await this.waitFor(() => this.#gateway.stats.identifies > 0, timeoutMs, 'a gateway IDENTIFY');
  }

  describeRecent(): string {
    const calls = this.requests.slice(-15).map((request) => {
      const flag = request.injected ? ' (scripted)' : request.overLimit ? ' (over limit)' : '';
      const query = new URLSearchParams(request.query).toString();
      return `  #${request.seq} +${request.at - this.#started}ms ${request.method} ${request.path}${query ? `?${query}` : ''} → ${request.status || 'pending'}${flag}`;
    });
    const events = this.dispatches.slice(-10).map((dispatch) => `  +${dispatch.at - this.#started}ms ${dispatch.t}`);
    const stats = this.#gateway.stats;
    return [
      `Recent REST calls (${this.requests.length} in all):`,
      ...(calls.length ? calls : ['  none']),
      `Recent dispatches (${this.dispatches.length} in all):`,
      ...(events.length ? events : ['  none']),
      `Gateway: ${stats.connections} connections, ${stats.identifies} identifies, ${stats.resumes} resumes, ${this.#gateway.liveSessions} live sessions.`,
    ].join('\n');
  }

  /** Stops the server. Destroy discord.js clients first, or they will try to reconnect. */
  async close(): Promise<void> {
    this.#gateway.close();
    await this.#http.close();
  }
}

function matcher(match: RequestMatch): (request: RecordedRequest) => boolean {
  if (typeof match === 'function') return match;
  return (request) =>
    (!match.method || match.method.toUpperCase() === request.method) &&
    (!match.route || match.route === request.route) &&
    (!match.path || match.path === request.path) &&
    (match.status === undefined || match.status === request.status) &&
    (match.since === undefined || request.seq > match.since);
}

function describeMatch(match: RequestMatch): string {
  return typeof match === 'function' ? 'a predicate' : JSON.stringify(match);
}

export interface FakeParts {
  ctx: FakeContext;
  token: string;
  requests: RecordedRequest[];
  dispatches: RecordedDispatch[];
  gateway: FakeGateway;
  http: FakeHttpServer;
  limiter: RateLimiter;
}
