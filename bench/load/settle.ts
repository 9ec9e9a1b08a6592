import type { FakeDiscord } from '../../test/discord-fake/index.js';
import type { ProviderCall } from './provider.js';
import { queueDepth, type LoadServices } from './services.js';

const QUEUES = ['reply', 'memorize', 'summarize', 'notes'];

/**
 * Once people stop: waits until nothing is left to do. The reply, memorize,
 * summarize and notes queues are empty (delayed jobs included), no scene round is stored as running, no
 * provider stream is in flight, and neither Discord nor the provider has
 * seen a call for `quietMs` (longer than the scene debounce), twice in a row.
 */
export async function settle(input: {
  services: LoadServices;
  discord: FakeDiscord;
  calls: ProviderCall[];
  quietMs: number;
  timeoutMs: number;
}): Promise<{ ms: number; settled: boolean; depth: Record<string, number>; runningRounds: number }> {
  const started = Date.now();
  let calm = 0;
  let depth: Record<string, number> = {};
  let runningRounds = 0;
  while (Date.now() - started < input.timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    depth = await queueDepth(input.services.redisUrl, QUEUES);
    const [row] = await input.services.sql<{ n: string | number }>(
      `select count(*) as n from conversations where jsonb_typeof(settings #> '{scene,round}') = 'object'`,
    );
    runningRounds = Number(row?.n ?? 0);
    const lastRest = input.discord.requests.at(-1)?.at ?? 0;
    const lastCall = Math.max(0, ...input.calls.map((c) => Math.max(c.request.at, c.endsAt)));
    const quiet = Date.now() - Math.max(lastRest, lastCall) > input.quietMs;
    const idle = Object.values(depth).every((n) => n === 0) && runningRounds === 0 && quiet;
    calm = idle ? calm + 1 : 0;
    if (calm >= 2) return { ms: Date.now() - started, settled: true, depth, runningRounds };
  }
  return { ms: Date.now() - started, settled: false, depth, runningRounds };
}
