import { FakeCdn } from './cdn.js';
import type { FakeContext } from './context.js';
import { FakeDiscord, type FakeDiscordOptions, type RecordedDispatch } from './fake-discord.js';
import { FakeGateway } from './gateway.js';
import { FakeHttpServer, type RecordedRequest } from './http-server.js';
import { botToken, Snowflakes } from './ids.js';
import { interactionRoutes } from './interaction-responses.js';
import { guildCreatePayload, makeUser, type Json } from './payloads.js';
import { RateLimiter } from './rate-limits.js';
import { APPLICATION_FLAGS, appRoutes, gatewayUrl } from './routes-app.js';
import { attachmentRoutes } from './routes-attachments.js';
import { channelRoutes } from './routes-channels.js';
import { commandRoutes } from './routes-commands.js';
import { webhookRoutes } from './routes-webhooks.js';
import { FakeStore } from './store.js';
import { ChangeSignal } from './waiting.js';

/** Starts a fake Discord on 127.0.0.1 (a free port). */
export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const ids = new Snowflakes();
  const botId = options.botUser?.id ?? ids.next();
  const botUser = makeUser({
    id: botId,
    username: options.botUser?.username ?? 'DreamChat',
    globalName: options.botUser?.globalName ?? null,
    avatar: options.botUser?.avatar ?? null,
    bot: true,
  });
  const store = new FakeStore(botUser, options.applicationId ?? botId, ids);
  const token = options.token ?? botToken(botId);
  const signal = new ChangeSignal();
  const requests: RecordedRequest[] = [];
  const dispatches: RecordedDispatch[] = [];
  let discord: FakeDiscord | undefined;
  const ctx: FakeContext = {
    store,
    signal,
    timings: {
      interactionTimeoutMs: options.interactionTimeoutMs ?? 3000,
      interactionTokenTtlMs: options.interactionTokenTtlMs ?? 15 * 60_000,
      // Long enough for a loaded machine; a condition that holds ends the wait at once.
      waitTimeoutMs: options.waitTimeoutMs ?? 20_000,
    },
    interactions: new Map(),
    cdn: new FakeCdn(options.attachmentTtlMs),
    baseUrl: () => `http://127.0.0.1:${http.port}`,
    dispatch: (t, d) => {
      dispatches.push({ t, d, at: Date.now() });
      gateway.dispatch(t, d);
      signal.notify();
    },
    describeRecent: () => discord?.describeRecent() ?? '',
  };
  const gateway = new FakeGateway({
    token: () => token,
    botUserId: botId,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    disallowedIntents: options.disallowedIntents ?? 0,
    url: () => gatewayUrl(ctx),
    ready: () => ({ data: readyData(store), guilds: [...store.guilds.values()].map((guild) => guildCreatePayload(store, guild)) }),
    onChange: () => signal.notify(),
  });
  const limiter = new RateLimiter(options.rateLimits);
  const http: FakeHttpServer = new FakeHttpServer({
    ctx,
    routes: [...appRoutes, ...channelRoutes, ...webhookRoutes, ...interactionRoutes, ...commandRoutes, ...attachmentRoutes],
    limiter,
    token: () => token,
    requests,
    onUpgrade: (request, socket, head) => gateway.handleUpgrade(request, socket, head),
  });
  await http.listen();
  discord = new FakeDiscord({ ctx, token, requests, dispatches, gateway, http, limiter });
  return discord;
}

/** READY's data, without the session fields the gateway adds. */
function readyData(store: FakeStore): Json {
  return {
    v: 10,
    user: { ...store.botUser, verified: true, mfa_enabled: false, email: null },
    guilds: [...store.guilds.keys()].map((id) => ({ id, unavailable: true })),
    application: { id: store.applicationId, flags: APPLICATION_FLAGS },
    private_channels: [],
    presences: [],
    relationships: [],
    user_settings: {},
    guild_join_requests: [],
    geo_ordered_rtc_regions: ['rotterdam'],
    session_type: 'normal',
    auth: {},
    _trace: ['["fake-discord",{"micros":0}]'],
  };
}
