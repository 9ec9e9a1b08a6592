import type { ChatUsage } from '../llm/types.js';

/**
 * List prices in US dollars per million tokens (input, output) of common
 * hosted models, from the vendors' pricing pages (2025). Estimates only: no
 * cached-input or batch discounts, and prices change; edit this table when
 * they do. A model matches the longest entry its name starts with (dated
 * snapshots such as `gpt-4o-mini-2024-07-18` match `gpt-4o-mini`), after an
 * OpenRouter-style vendor prefix (`openai/`, `anthropic/`) is dropped. Any
 * other model (local, Ollama, unknown) has no estimate: its cost is unknown,
 * shown as such and counted as 0 in totals.
 */
const PRICES_PER_MILLION: Readonly<Record<string, { input: number; output: number }>> = {
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-5-sonnet': { input: 3, output: 15 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-3-opus': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
};

const BY_LENGTH = Object.keys(PRICES_PER_MILLION).sort((a, b) => b.length - a.length);

/** The price entry for a model name, if the table knows it. */
export function priceOf(model: string): { input: number; output: number } | undefined {
  const name = model.toLowerCase().replace(/^(openai|anthropic)\//, '');
  const entry = BY_LENGTH.find((prefix) => name === prefix || name.startsWith(`${prefix}-`));
  return entry ? PRICES_PER_MILLION[entry] : undefined;
}

/** Estimated cost in US dollars of one call; undefined when the model has no price or the usage is unknown. */
export function estimateCost(model: string, usage: ChatUsage | undefined): number | undefined {
  const price = priceOf(model);
  if (!price || !usage) return undefined;
  const cost = (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
  return Math.round(cost * 1e8) / 1e8;
}

/** "$0.0002", "$1.37", "<$0.0001"; "unknown" without an estimate. */
export function formatCost(costUsd: number | undefined | null): string {
  if (costUsd === undefined || costUsd === null) return 'unknown';
  if (costUsd === 0) return '$0';
  if (costUsd < 0.0001) return '<$0.0001';
  if (costUsd < 1) return `$${costUsd.toPrecision(2).replace(/0+$/, '')}`;
  return `$${costUsd.toFixed(2)}`;
}
