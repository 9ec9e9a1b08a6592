import type { HistoryEntry, MemoryKind, PromptMemory } from './prompt.js';
import { countTokens } from './tokens.js';

/** Recalled memories' headings, after SillyTavern's vector-storage templates ("Past events:", "Related information:"). */
export const MEMORY_HEADINGS: Record<MemoryKind, string> = {
  lore: 'World information:',
  knowledge: 'Related information:',
  conversation: 'Past events from earlier in this conversation:',
  other: 'Past events from other conversations with {{user}}:',
};

export const MEMORY_KINDS_IN_ORDER: MemoryKind[] = ['lore', 'knowledge', 'conversation', 'other'];

/**
 * Chooses memories within `limit` tokens: first each kind up to its share of the limit (in the given order),
 * then in what is left by their place in their kind's ranking (one kind's 8th before another's 37th), by score among equals. Left out: an exchange whose messages are in the recent window, a text
 * whose lines the window already holds (compared with the window as a whole, so an exchange spread over two
 * messages counts), a passage that is only a heading or a few words, and a near-twin of one already chosen.
 */
export function pickMemories(
  memories: PromptMemory[],
  options: { limit: number; shares: Record<MemoryKind, number>; window: HistoryEntry[]; heading: (kind: MemoryKind) => string },
): { memories: PromptMemory[]; tokens: number } {
  const inWindow = new Set(options.window.map((entry) => entry.id));
  const windowText = normalized(options.window.map((entry) => entry.content).join('\n'));
  const windowWords = options.window.map((entry) => wordsOf(entry.content));
  const fresh = memories.filter((memory) => {
    if (memory.messageIds?.some((id) => inWindow.has(id))) return false;
    if (tooSmall(memory.content)) return false;
    if (repeatsWindow(memory.content, windowText)) return false;
    const words = wordsOf(memory.content);
    return !windowWords.some((window) => mostlyWithin(words, window));
  });
  const chosen: PromptMemory[] = [];
  const chosenWords: Set<string>[] = [];
  const usedByKind = new Map<MemoryKind, number>();
  let tokens = 0;
  const costOf = (memory: PromptMemory) =>
    countTokens(memory.content) + 2 + (usedByKind.has(memory.kind) ? 0 : countTokens(options.heading(memory.kind)) + 2);
  const take = (memory: PromptMemory, cap: number) => {
    if (chosen.includes(memory)) return;
    const words = wordsOf(memory.content);
    // Two hits saying the same (a fact remembered twice): keep the first.
    if (chosenWords.some((other) => mostlyWithin(words, other))) return;
    const cost = costOf(memory);
    if (tokens + cost > options.limit || (usedByKind.get(memory.kind) ?? 0) + cost > cap) return;
    tokens += cost;
    usedByKind.set(memory.kind, (usedByKind.get(memory.kind) ?? 0) + cost);
    chosen.push(memory);
    chosenWords.push(words);
  };
  for (const memory of fresh) take(memory, Math.floor(options.limit * (options.shares[memory.kind] ?? 0)));
  // What is left goes by place in each kind's own ranking (recall's order; with full text, the fused one): by raw
  // similarity, a passage recall ranked 11th by its words lost to every exchange that was merely nearer
  // (bench/memory). Equal places go by score.
  const place = new Map<PromptMemory, number>();
  const seen = new Map<MemoryKind, number>();
  for (const memory of fresh) {
    place.set(memory, seen.get(memory.kind) ?? 0);
    seen.set(memory.kind, (seen.get(memory.kind) ?? 0) + 1);
  }
  const rest = fresh
    .filter((memory) => !chosen.includes(memory))
    .sort((a, b) => place.get(a)! - place.get(b)! || (b.score ?? 0) - (a.score ?? 0));
  for (const memory of rest) take(memory, Infinity);
  const order = new Map(memories.map((memory, i) => [memory, i]));
  chosen.sort((a, b) => MEMORY_KINDS_IN_ORDER.indexOf(a.kind) - MEMORY_KINDS_IN_ORDER.indexOf(b.kind) || order.get(a)! - order.get(b)!);
  return { memories: chosen, tokens };
}

/** A heading on its own ("## Chapter 3"), or fewer than five words: nothing to remember. */
function tooSmall(text: string): boolean {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (lines.every((line) => /^#{1,6}\s/.test(line) || /^\*\*[^*]+\*\*:?$/.test(line))) return true;
  return (text.match(/[\p{L}\p{N}']+/gu) ?? []).length < 5;
}

/** Most lines of the memory (a speaker's "Name:" aside) occur in the window's text already. */
function repeatsWindow(text: string, windowText: string): boolean {
  const lines = text
    .split('\n')
    .map((line) => normalized(line.replace(/^[^:\n]{1,80}:\s/, '')))
    .filter((line) => line.split(' ').length >= 3);
  if (!lines.length) return false;
  const found = lines.filter((line) => windowText.includes(line)).length;
  return found / lines.length >= 0.85;
}

function normalized(text: string): string {
  return (text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []).join(' ');
}

function wordsOf(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []);
}

/** At least 85% of `words` (five or more) are in `other`. */
function mostlyWithin(words: Set<string>, other: Set<string>): boolean {
  if (words.size < 5) return false;
  let shared = 0;
  for (const word of words) if (other.has(word)) shared++;
  return shared / words.size >= 0.85;
}
