import type { ChatProvider } from './types.js';

/** A real round trip: a tiny completion, timed to the first token and to the end. */
export async function roundTrip(provider: ChatProvider, model: string): Promise<{ firstTokenMs: number; totalMs: number; text: string }> {
  const started = performance.now();
  let firstTokenMs = -1;
  const stream = provider.stream({
    model,
    messages: [
      { role: 'system', content: 'You are a connectivity check.' },
      { role: 'user', content: 'Reply with the single word OK.' },
    ],
    maxTokens: 8,
  });
  for await (const _delta of stream) {
    if (firstTokenMs < 0) firstTokenMs = performance.now() - started;
  }
  const result = await stream.result();
  const totalMs = performance.now() - started;
  return { firstTokenMs: Math.round(firstTokenMs < 0 ? totalMs : firstTokenMs), totalMs: Math.round(totalMs), text: result.text };
}

/** Model lists change rarely: keep each instance's for a few minutes (autocomplete asks on every keystroke). */
export class ModelListCache {
  readonly #entries = new Map<string, { at: number; models: Promise<string[]> }>();
  constructor(private readonly ttlMs = 5 * 60_000) {}

  get(key: string, load: () => Promise<string[]>): Promise<string[]> {
    const entry = this.#entries.get(key);
    if (entry && Date.now() - entry.at < this.ttlMs) return entry.models;
    const models = load().catch((error: unknown) => {
      this.#entries.delete(key);
      throw error;
    });
    this.#entries.set(key, { at: Date.now(), models });
    return models;
  }
}
