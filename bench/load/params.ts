/** What a load run does: how many people, where they talk, for how long, and at what pace. */
export interface LoadParams {
  users: number;
  channels: number;
  scenes: number;
  /** How long people keep talking. */
  minutes: number;
  /** Each person posts at random (Poisson) with this mean gap. */
  meanGapSeconds: number;
  /** Provider pace, tokens a second, and reply length in tokens. */
  tokensPerSecond: number;
  replyTokens: [number, number];
  /** Worker processes beside the gateway. */
  workers: number;
  sceneDebounceMs: number;
  /** Longest wait for queues and scenes to settle once people stop. */
  settleTimeoutMs: number;
  seed: number;
}

export const FULL_RUN: LoadParams = {
  users: 200,
  channels: 50,
  scenes: 10,
  minutes: 3,
  meanGapSeconds: 30,
  tokensPerSecond: 40,
  replyTokens: [30, 120],
  workers: 2,
  sceneDebounceMs: 1500,
  settleTimeoutMs: 180_000,
  seed: 8,
};

/** `--users 20 --channels 5 --scenes 2 --minutes 0.5 …`: any field of LoadParams by name (kebab or camel case). */
export function parseLoadArgs(args: string[], base: LoadParams = FULL_RUN): LoadParams {
  const params: LoadParams = { ...base };
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]!.replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as keyof LoadParams;
    const value = args[i + 1];
    if (!(key in base) || value === undefined)
      throw new Error(`Unknown or incomplete option ${args[i]} (known: ${Object.keys(base).join(', ')})`);
    if (key === 'replyTokens') params.replyTokens = value.split('-').map(Number) as [number, number];
    else (params as unknown as Record<string, number>)[key] = Number(value);
  }
  if (params.users < params.channels + params.scenes) throw new Error('Need at least one person per channel and scene.');
  return params;
}
