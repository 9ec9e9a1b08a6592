import { mentionsName } from '../chat/mentions.js';

export const STRATEGIES = ['natural', 'list', 'pooled', 'manual'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** A character of the scene, as turn-taking sees it. */
export interface Seat {
  characterId: string;
  name: string;
  /** Other names it answers to. */
  aliases?: string[];
  /** 0–1: how likely it speaks up unprompted (natural strategy). */
  talkativeness: number;
  /** Muted characters never speak on their own; /scene next still works. */
  muted: boolean;
}

export interface TurnInput {
  strategy: Strategy;
  /** Scene order. */
  seats: Seat[];
  /** The message being answered. */
  last: { content: string; characterId?: string };
  /** Characters who have spoken since the last human message (pooled strategy). */
  spokeSinceHuman: string[];
  allowSelfResponses: boolean;
  /** 0 ≤ random() < 1; seeded in tests. */
  random: () => number;
}

/**
 * Who answers a human message, in order. natural: the characters named in it
 * first, then each other one by its talkativeness, else one at random; list:
 * everyone in order; pooled: one who has not spoken since the last human
 * message; manual: nobody (only /scene next). Muted characters never answer,
 * and the last speaker does not answer itself unless the scene allows it.
 */
export function chooseSpeakers(input: TurnInput): string[] {
  const candidates = candidatesFor(input);
  if (candidates.length === 0) return [];
  switch (input.strategy) {
    case 'manual':
      return [];
    case 'list':
      return candidates.map((seat) => seat.characterId);
    case 'pooled': {
      const named = namedIn(input.last.content, candidates);
      if (named.length) return [named[0]!.characterId];
      const fresh = candidates.filter((seat) => !input.spokeSinceHuman.includes(seat.characterId));
      const pool = fresh.length ? fresh : candidates;
      return [pick(pool, input.random).characterId];
    }
    case 'natural': {
      const named = namedIn(input.last.content, candidates);
      const chosen = [...named];
      for (const seat of candidates) {
        if (chosen.includes(seat)) continue;
        if (input.random() < clamp(seat.talkativeness)) chosen.push(seat);
      }
      if (chosen.length === 0) chosen.push(pick(candidates, input.random));
      return chosen.map((seat) => seat.characterId);
    }
  }
}

/**
 * After a character spoke, whether another answers it on its own (character-to-character
 * turns, bounded by the scene's auto-turn limit): one named in the reply, else
 * one by talkativeness. Never the speaker itself unless the scene allows it.
 */
export function chooseFollowUp(input: Omit<TurnInput, 'spokeSinceHuman'>): string | undefined {
  if (input.strategy === 'manual' || input.strategy === 'list') return undefined;
  const candidates = candidatesFor(input);
  const named = namedIn(input.last.content, candidates);
  if (named.length) return named[0]!.characterId;
  for (const seat of candidates) {
    if (input.random() < clamp(seat.talkativeness) / 2) return seat.characterId;
  }
  return undefined;
}

/** Who may speak on their own: not muted, and not the last speaker unless the scene allows self-responses. */
function candidatesFor(input: Pick<TurnInput, 'seats' | 'last' | 'allowSelfResponses'>): Seat[] {
  return input.seats.filter((seat) => !seat.muted && (input.allowSelfResponses || seat.characterId !== input.last.characterId));
}

/** Characters named in the text (whole word, any case, or an alias), in order of first appearance. */
export function namedIn(text: string, seats: Seat[]): Seat[] {
  const found: { seat: Seat; at: number }[] = [];
  for (const seat of seats) {
    const at = Math.min(...[seat.name, ...(seat.aliases ?? [])].map((name) => positionOf(text, name)));
    if (Number.isFinite(at)) found.push({ seat, at });
  }
  return found.sort((a, b) => a.at - b.at).map((item) => item.seat);
}

function positionOf(text: string, name: string): number {
  if (!mentionsName(text, name)) return Infinity;
  return text.toLowerCase().indexOf(name.trim().toLowerCase());
}

function pick<T>(items: T[], random: () => number): T {
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))]!;
}

function clamp(value: number): number {
  return Math.max(0, Math.min(1, Number.isFinite(value) ? value : 0.5));
}

/** A small seeded generator (mulberry32), for reproducible turn-taking in tests. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
