import { countTokens } from '../chat/tokens.js';
import type { LoreItem } from './lore.js';
import { compileKey } from './lore-keys.js';

export interface LoreOptions {
  /** Tokens all selected entries may take together (default 800). */
  budgetTokens?: number;
  /** How many times selected entries' content is scanned for further keys (default 2; 0 = only the messages). */
  maxDepth?: number;
  /** Characters scanned, from the end of the recent messages (and of each recursion's text); default 6000. */
  scanChars?: number;
}

export interface LoreSelection {
  item: LoreItem;
  /** The key that fired (the primary one, for selective entries), or 'constant'. */
  trigger: string | 'constant';
  /** 0 = triggered by the messages (or constant); d = by the content of an entry at depth d - 1. */
  depth: number;
  tokens: number;
}

export const LORE_DEFAULTS = { budgetTokens: 800, maxDepth: 2, scanChars: 6000 } as const;

interface Candidate {
  item: LoreItem;
  keys: { key: string; regex: RegExp }[];
  secondary: { key: string; regex: RegExp }[];
}

/**
 * The lore entries to put in the prompt for these recent messages: constant
 * entries, entries whose keys appear in the messages, then (up to maxDepth
 * times) entries whose keys appear in the content of those just selected.
 * Ordered constant first, then by priority (higher first), depth and name;
 * each entry goes in whole or not at all within the token budget. Keys that
 * are not valid regular expressions are ignored.
 */
export function selectLore(items: LoreItem[], recent: string[], options: LoreOptions = {}): LoreSelection[] {
  const budget = options.budgetTokens ?? LORE_DEFAULTS.budgetTokens;
  const maxDepth = options.maxDepth ?? LORE_DEFAULTS.maxDepth;
  const scanChars = options.scanChars ?? LORE_DEFAULTS.scanChars;
  const usable = items.filter((item) => item.entry.enabled !== false && item.entry.content.trim());

  const chosen: Omit<LoreSelection, 'tokens'>[] = usable.filter((item) => item.entry.constant).map((item) => ({ item, trigger: 'constant', depth: 0 }));
  let waiting = usable.filter((item) => !item.entry.constant).map(candidate);
  let text = tail(recent.join('\n'), scanChars);
  let sources = chosen.map((selection) => selection.item);
  for (let depth = 0; depth <= maxDepth && waiting.length > 0; depth++) {
    const found: LoreItem[] = [];
    const rest: Candidate[] = [];
    for (const entry of waiting) {
      const trigger = text ? triggerOf(entry, text) : undefined;
      if (trigger === undefined) rest.push(entry);
      else {
        chosen.push({ item: entry.item, trigger, depth });
        found.push(entry.item);
      }
    }
    waiting = rest;
    // Depth 1 scans what the messages brought in, constant entries included.
    sources = depth === 0 ? [...sources, ...found] : found;
    if (sources.length === 0) break;
    text = tail(sources.map((item) => item.entry.content).join('\n'), scanChars);
  }

  chosen.sort(
    (a, b) =>
      Number(Boolean(b.item.entry.constant)) - Number(Boolean(a.item.entry.constant)) ||
      (b.item.entry.priority ?? 0) - (a.item.entry.priority ?? 0) ||
      a.depth - b.depth ||
      a.item.name.localeCompare(b.item.name),
  );
  const selected: LoreSelection[] = [];
  let used = 0;
  for (const selection of chosen) {
    const tokens = countTokens(selection.item.entry.content);
    if (used + tokens > budget) continue;
    used += tokens;
    selected.push({ ...selection, tokens });
  }
  return selected;
}

function candidate(item: LoreItem): Candidate {
  const options = { caseSensitive: item.entry.caseSensitive, useRegex: item.entry.useRegex };
  const compile = (keys: string[] | undefined) =>
    (keys ?? []).flatMap((key) => {
      const check = compileKey(key, options);
      return check.ok ? [{ key, regex: check.regex }] : [];
    });
  return { item, keys: compile(item.entry.keys), secondary: compile(item.entry.secondaryKeys) };
}

function triggerOf(entry: Candidate, text: string): string | undefined {
  const hit = entry.keys.find(({ regex }) => regex.test(text));
  if (!hit) return undefined;
  const needsSecondary = entry.item.entry.selective && (entry.item.entry.secondaryKeys?.length ?? 0) > 0;
  if (needsSecondary && !entry.secondary.some(({ regex }) => regex.test(text))) return undefined;
  return hit.key;
}

/** The last `chars` characters of `text`, starting at a word where that costs little. */
function tail(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const cut = text.slice(-chars);
  const space = cut.search(/\s/);
  return space >= 0 && space < 100 ? cut.slice(space + 1) : cut;
}
