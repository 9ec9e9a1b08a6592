import type { ChatUsage } from '../llm/types.js';
import { estimateCost } from './pricing.js';

/**
 * What a reply cost, kept in messages.metadata beside tokens_used and model
 * (no migration): `costUsd` is the estimate for the reply as it stands (null
 * when the model has no price), and `spent` adds up every generation of the
 * message, regenerations and continuations included, for the person the
 * reply answered (`by`, a users.id). /usage reads `spent`.
 */
export interface Spent {
  by: string;
  tokens: number;
  costUsd: number | null;
  generations: number;
}

export function tokensOf(usage: ChatUsage | undefined): number {
  return usage ? usage.inputTokens + usage.outputTokens : 0;
}

/**
 * The metadata fields for one more generation of a reply: `previous` is the
 * message's metadata before it (undefined for a new reply); `replaces` says
 * whether the new text replaces the old (regenerate) or extends it (continue).
 */
export function spendingMetadata(
  previous: Record<string, unknown> | undefined,
  generation: { model: string; usage?: ChatUsage },
  userId: string,
  replaces: boolean,
): { costUsd: number | null; spent: Spent } {
  const cost = estimateCost(generation.model, generation.usage) ?? null;
  const before = previous?.spent as Spent | undefined;
  const previousCost = typeof previous?.costUsd === 'number' ? previous.costUsd : null;
  const add = (a: number | null, b: number | null) => (a === null && b === null ? null : (a ?? 0) + (b ?? 0));
  return {
    costUsd: replaces ? cost : add(previousCost, cost),
    spent: {
      by: before?.by ?? userId,
      tokens: (before?.tokens ?? 0) + tokensOf(generation.usage),
      costUsd: add(before?.costUsd ?? null, cost),
      generations: (before?.generations ?? 0) + 1,
    },
  };
}
