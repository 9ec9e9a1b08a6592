import type { FakeDiscord, RecordedRequest } from '../../test/discord-fake/index.js';
import type { SentMessage } from './drive.js';
import type { ProviderCall } from './provider.js';

/** Discord's limits the fake enforces (see test/discord-fake/rate-limits.ts), by route: calls per window. */
const LIMITS: Record<string, { limit: number; windowMs: number }> = {
  'POST /channels/:channelId/messages': { limit: 5, windowMs: 5000 },
  'PATCH /channels/:channelId/messages/:messageId': { limit: 5, windowMs: 5000 },
  'POST /channels/:channelId/typing': { limit: 5, windowMs: 5000 },
  'POST /channels/:channelId/webhooks': { limit: 5, windowMs: 5000 },
  'POST /channels/:channelId/threads': { limit: 5, windowMs: 5000 },
  'POST /webhooks/:webhookId/:token': { limit: 5, windowMs: 2000 },
  'PATCH /webhooks/:webhookId/:token/messages/:messageId': { limit: 5, windowMs: 2000 },
  'DELETE /webhooks/:webhookId/:token/messages/:messageId': { limit: 5, windowMs: 2000 },
};

export interface Distribution {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : 0);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 };
}

/**
 * Bot overhead: from MESSAGE_CREATE leaving the fake gateway to the provider
 * request carrying the message. "idle" counts only messages that found their
 * place quiet (no reply streaming there, no earlier message still waiting for
 * its request), so waiting behind another reply is not counted as overhead.
 */
export function overheads(
  sent: SentMessage[],
  calls: ProviderCall[],
): { idle: number[]; all: number[]; firstCall: Map<string, ProviderCall> } {
  const firstCall = new Map<string, ProviderCall>();
  for (const call of calls) for (const tag of call.messageTags) if (!firstCall.has(tag)) firstCall.set(tag, call);
  const placeOfTag = new Map(sent.map((m) => [m.tag, m.place.id]));
  const callsByPlace = new Map<string, ProviderCall[]>();
  for (const call of calls) {
    const place = [...call.messageTags].map((tag) => placeOfTag.get(tag)).find(Boolean);
    if (place) callsByPlace.set(place, [...(callsByPlace.get(place) ?? []), call]);
  }
  const idle: number[] = [];
  const all: number[] = [];
  for (const message of sent) {
    const call = firstCall.get(message.tag);
    if (!call) continue;
    const ms = call.request.at - message.dispatchedAt;
    all.push(ms);
    const streaming = (callsByPlace.get(message.place.id) ?? []).some(
      (c) => c.request.at <= message.dispatchedAt && message.dispatchedAt <= c.endsAt + 500,
    );
    const waiting = sent.some(
      (other) =>
        other !== message &&
        other.place === message.place &&
        other.dispatchedAt <= message.dispatchedAt &&
        (firstCall.get(other.tag)?.request.at ?? Infinity) > message.dispatchedAt,
    );
    if (!streaming && !waiting) idle.push(ms);
  }
  return { idle, all, firstCall };
}

/** Splits a recorded path by its route template: { channelId: '…', webhookId: '…' }. */
function paramsOf(request: RecordedRequest): Record<string, string> {
  const names = request.route.split('/');
  const values = request.path.split('/');
  const params: Record<string, string> = {};
  names.forEach((name, i) => {
    if (name.startsWith(':') && values[i]) params[name.slice(1)] = values[i]!;
  });
  return params;
}

/** Max calls in any 1 s window of these times (sorted ascending). */
function maxPerSecond(times: number[]): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= 1000) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** Max calls in any window of `windowMs` (sorted times), to compare with a bucket's limit. */
function maxPerWindow(times: number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/**
 * Discord REST traffic during the run: calls per channel per second (every
 * route, the channel being the one a message shows up in: a webhook's
 * channel, or the thread it posts into), per bucket per second, how close
 * each limited route came to its limit, and 429s. A "429 loop" is a call
 * answered 429 whose retry was answered 429 again.
 */
export function restFigures(discord: FakeDiscord, sinceSeq: number) {
  const requests = discord.requests.filter((r) => r.seq > sinceSeq && r.route);
  const channelOfWebhook = new Map([...discord.store.webhooks.values()].map((w) => [w.id, w.channelId]));
  const byChannel = new Map<string, number[]>();
  const byBucket = new Map<string, number[]>();
  for (const request of requests) {
    const params = paramsOf(request);
    const channel = request.query.thread_id ?? params.channelId ?? (params.webhookId ? channelOfWebhook.get(params.webhookId) : undefined);
    if (channel) byChannel.set(channel, [...(byChannel.get(channel) ?? []), request.time]);
    const major = params.webhookId ?? params.channelId ?? params.guildId ?? params.interactionId ?? '';
    const bucket = `${request.method} ${request.route}`;
    byBucket.set(`${bucket} ${major}`, [...(byBucket.get(`${bucket} ${major}`) ?? []), request.time]);
  }
  let maxPerChannel = { calls: 0, channel: '' };
  for (const [channel, times] of byChannel) {
    const calls = maxPerSecond(times);
    if (calls > maxPerChannel.calls) maxPerChannel = { calls, channel };
  }
  let maxPerBucket = { calls: 0, bucket: '' };
  const closestToLimit: Record<string, { maxInWindow: number; limit: number; windowMs: number }> = {};
  for (const [key, times] of byBucket) {
    const calls = maxPerSecond(times);
    if (calls > maxPerBucket.calls) maxPerBucket = { calls, bucket: key.replace(/ \d+$/, ' …') };
    const route = key.split(' ').slice(0, 2).join(' ');
    const rule = LIMITS[route];
    if (!rule) continue;
    const maxInWindow = maxPerWindow(times, rule.windowMs);
    if (maxInWindow > (closestToLimit[route]?.maxInWindow ?? 0)) closestToLimit[route] = { maxInWindow, ...rule };
  }
  const limited = requests.filter((r) => r.status === 429);
  let loops = 0;
  const lastStatus = new Map<string, number>();
  for (const request of requests) {
    const key = `${request.method} ${request.path}`;
    if (request.status === 429 && lastStatus.get(key) === 429) loops++;
    lastStatus.set(key, request.status);
  }
  return {
    calls: requests.length,
    maxCallsPerChannelPerSecond: maxPerChannel.calls,
    maxCallsPerBucketPerSecond: maxPerBucket,
    limitedRoutes: closestToLimit,
    rateLimited429: limited.length,
    overLimit429: limited.filter((r) => r.overLimit).length,
    loops429: loops,
    serverErrors: requests.filter((r) => r.status >= 500).length,
  };
}
