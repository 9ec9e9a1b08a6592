import { countTokens } from '../chat/tokens.js';
import type { LoreItem } from './lore.js';
import { matchKey } from './lore-keys.js';
import { filterByInclusionGroups } from './lore-groups.js';
import { TimedEffects, type TimedLore } from './lore-timed.js';
import type { LoreBookSettings, LorePosition, LoreRole } from './types.js';

/**
 * Lorebook activation by SillyTavern's rules (`checkWorldInfo` and its helpers in public/scripts/world-info.js).
 * Where an entry or its book leaves a setting out, ST's shipped defaults apply (default/content/settings.json):
 * scan depth 2 messages, budget 25% of the context, recursive scanning on, case-insensitive, whole words,
 * message authors' names included in the scanned text.
 */
const LORE_DEFAULTS = {
  scanDepth: 2,
  budgetPercent: 25,
  recursive: true,
  caseSensitive: false,
  wholeWords: true,
  /** ST's DEFAULT_DEPTH for at-depth entries. */
  depth: 4,
  /** ST loops until nothing new activates; this bounds a pathological book. */
  maxLoops: 50,
} as const;

export interface LoreScan {
  /** The conversation's messages, oldest first, as ST scans them ("Name: text"). */
  messages: string[];
  /** Tokens all activated entries may take together. */
  budgetTokens: number;
  book?: LoreBookSettings;
  /** How many messages the conversation has (ST's chat.length), for delay, sticky and cooldown. */
  chatLength?: number;
  /** Timed effects carried over from earlier replies. */
  timed?: TimedLore;
  /** 0 ≤ x < 1; Math.random unless a test fixes it. */
  random?: () => number;
  /** Macros in keys and content ({{char}}, {{user}}…), as ST's substituteParams. */
  substitute?: (text: string) => string;
  /** What an entry may scan besides the chat when it asks to (ST's WIGlobalScanData), macros filled. */
  globalScanData?: GlobalScanData;
  /** The character the prompt is for, matched against entries' character filters. */
  characterName?: string;
}

/** ST's WIGlobalScanData: the persona description of the person answered and the card's fields. */
export interface GlobalScanData {
  personaDescription?: string;
  characterDescription?: string;
  characterPersonality?: string;
  characterDepthPrompt?: string;
  scenario?: string;
  creatorNotes?: string;
}

/** WorldInfoBuffer.get: which entry flag adds which of the global scan data, in ST's order. */
const GLOBAL_SCAN_FLAGS = [
  ['matchPersonaDescription', 'personaDescription'],
  ['matchCharacterDescription', 'characterDescription'],
  ['matchCharacterPersonality', 'characterPersonality'],
  ['matchCharacterDepthPrompt', 'characterDepthPrompt'],
  ['matchScenario', 'scenario'],
  ['matchCreatorNotes', 'creatorNotes'],
] as const;

/** One activated entry, ready for the prompt. */
export interface ActivatedLore {
  item: LoreItem;
  /** The content with decorators removed and macros filled. */
  content: string;
  position: LorePosition;
  depth: number;
  role: LoreRole;
  order: number;
  tokens: number;
  /** What activated it: the primary key that matched, or 'constant', 'sticky', '@@activate'. */
  trigger: string;
}

export interface LoreResult {
  /** Activated entries, in prompt order (lower insertion order first, as ST joins them). */
  entries: ActivatedLore[];
  /** The timed-effects state to keep for the next reply. */
  timed: TimedLore;
}

/** An entry while it is scanned: its decorators parsed off, its content macro-filled once activated. */
export interface ScanEntry {
  item: LoreItem;
  decorators: string[];
  content: string;
  order: number;
}

const SCAN = { initial: 1, recursion: 2 } as const;
const KNOWN_DECORATORS = ['@@activate', '@@dont_activate'];

export function activateLore(items: LoreItem[], scan: LoreScan): LoreResult {
  const random = scan.random ?? Math.random;
  const substitute = scan.substitute ?? ((text: string) => text);
  const recursive = scan.book?.recursiveScanning ?? LORE_DEFAULTS.recursive;
  const chatLength = scan.chatLength ?? scan.messages.length;
  // ST's depth buffer: newest message first, each trimmed.
  const depthBuffer = [...scan.messages].reverse().map((message) => message.trim());
  const recurseBuffer: string[] = [];
  // getSortedEntries: by insertion order, highest first (a stable sort keeps the book's order among equals).
  const sorted: ScanEntry[] = items
    .map((item) => {
      const [decorators, content] = parseDecorators(item.entry.content ?? '');
      return { item, decorators, content, order: item.entry.insertionOrder ?? 100 };
    })
    .sort((a, b) => b.order - a.order);
  const timed = new TimedEffects(chatLength, items, scan.timed);

  const textOf = (entry: ScanEntry): string => {
    const depth = entry.item.entry.scanDepth ?? scan.book?.scanDepth ?? LORE_DEFAULTS.scanDepth;
    if (depth <= 0) return '';
    let text = '\x01' + depthBuffer.slice(0, Math.min(depth, 1000)).join('\n\x01');
    for (const [flag, field] of GLOBAL_SCAN_FLAGS) {
      const extra = scan.globalScanData?.[field];
      if (entry.item.entry[flag] && extra) text += '\n\x01' + extra;
    }
    if (recurseBuffer.length) text += '\n\x01' + recurseBuffer.join('\n\x01');
    return text;
  };
  const matches = (entry: ScanEntry, text: string, key: string) => {
    const options = {
      caseSensitive: entry.item.entry.caseSensitive ?? LORE_DEFAULTS.caseSensitive,
      wholeWords: entry.item.entry.matchWholeWords ?? LORE_DEFAULTS.wholeWords,
      // /lore's own regex option; imported cards' use_regex is ignored, as ST ignores it.
      regex: entry.item.entry.useRegex === true && !entry.item.entry.original,
    };
    const substituted = substitute(key);
    return Boolean(substituted.trim()) && matchKey(text, substituted.trim(), options);
  };

  const delayLevels = [
    ...new Set(sorted.filter((e) => e.item.entry.delayUntilRecursion).map((e) => delayLevelOf(e.item.entry.delayUntilRecursion))),
  ].sort((a, b) => a - b);
  let currentDelayLevel = delayLevels.shift() ?? 0;
  const activated = new Map<string, { entry: ScanEntry; trigger: string }>();
  const failedProbability = new Set<ScanEntry>();
  let activatedText = '';
  let overflowed = false;
  let state: number = SCAN.initial;

  for (let loop = 0; state && loop < LORE_DEFAULTS.maxLoops; loop++) {
    let next = 0;
    const now = new Map<ScanEntry, string>();
    for (const entry of sorted) {
      const lore = entry.item.entry;
      if (failedProbability.has(entry) || activated.has(entry.item.id) || lore.enabled === false) continue;
      if (filteredOut(lore, scan.characterName)) continue;
      const sticky = timed.isActive('sticky', entry.item);
      if (timed.isActive('delay', entry.item)) continue;
      if (timed.isActive('cooldown', entry.item) && !sticky) continue;
      if (state !== SCAN.recursion && lore.delayUntilRecursion && !sticky) continue;
      if (state === SCAN.recursion && lore.delayUntilRecursion && delayLevelOf(lore.delayUntilRecursion) > currentDelayLevel && !sticky)
        continue;
      if (state === SCAN.recursion && recursive && lore.excludeRecursion && !sticky) continue;
      if (entry.decorators.includes('@@activate')) {
        now.set(entry, '@@activate');
        continue;
      }
      if (entry.decorators.includes('@@dont_activate')) continue;
      if (lore.constant) {
        now.set(entry, 'constant');
        continue;
      }
      if (sticky) {
        now.set(entry, 'sticky');
        continue;
      }
      if (!lore.keys?.length) continue;
      const text = textOf(entry);
      const primary = lore.keys.find((key) => matches(entry, text, key));
      if (!primary) continue;
      const secondary = lore.selective !== false ? (lore.secondaryKeys ?? []).filter((key) => key.trim()) : [];
      if (
        !secondary.length ||
        secondaryHolds(
          lore.selectiveLogic ?? 'and_any',
          secondary.map((key) => matches(entry, text, key)),
        )
      ) {
        now.set(entry, primary.trim());
      }
    }

    // Sticky entries first, then the sorted order, for the probability and budget checks.
    const fresh = [...now.keys()].sort(
      (a, b) =>
        Number(timed.isActive('sticky', b.item)) - Number(timed.isActive('sticky', a.item)) || sorted.indexOf(a) - sorted.indexOf(b),
    );
    filterByInclusionGroups(
      fresh,
      [...activated.values()].map((a) => a.entry),
      {
        timed,
        random,
        score: (entry) => groupScore(entry, (key) => matches(entry, textOf(entry), key)),
      },
    );

    let newContent = '';
    const scannedTokens = countTokens(activatedText);
    const passed: ScanEntry[] = [];
    for (const entry of fresh) {
      const lore = entry.item.entry;
      const rolls = lore.useProbability !== false && (lore.probability ?? 100) !== 100 && !timed.isActive('sticky', entry.item);
      if (rolls && random() * 100 > (lore.probability ?? 100)) {
        failedProbability.add(entry);
        continue;
      }
      entry.content = substitute(entry.content);
      newContent += `${entry.content}\n`;
      // The budget check includes the entry being added: reaching the budget stops the scan without it.
      if (scannedTokens + countTokens(newContent) >= scan.budgetTokens) {
        overflowed = true;
        break;
      }
      activated.set(entry.item.id, { entry, trigger: now.get(entry)! });
      passed.push(entry);
    }
    const forRecursion = passed.filter((entry) => !entry.item.entry.preventRecursion);
    if (recursive && !overflowed && forRecursion.length) next = SCAN.recursion;
    if (!next && delayLevels.length) {
      next = SCAN.recursion;
      currentDelayLevel = delayLevels.shift()!;
    }
    state = next;
    if (state) {
      const text = forRecursion.map((entry) => entry.content).join('\n');
      if (text) {
        recurseBuffer.push(text);
        activatedText = `${text}\n${activatedText}`;
      }
    }
  }

  const chosen = [...activated.values()];
  const state2 = timed.activated(chosen.map(({ entry }) => entry.item));
  // Prompt order: ST sorts by order (highest first) and unshifts, so lower orders come first in the text.
  const entries = chosen
    .filter(({ entry }) => entry.content.trim())
    .sort((a, b) => a.entry.order - b.entry.order || sorted.indexOf(b.entry) - sorted.indexOf(a.entry))
    .map(({ entry, trigger }) => ({
      item: entry.item,
      content: entry.content,
      position: entry.item.entry.position ?? 'before_char',
      depth: entry.item.entry.depth ?? LORE_DEFAULTS.depth,
      role: entry.item.entry.role ?? 'system',
      order: entry.order,
      tokens: countTokens(entry.content),
      trigger,
    }));
  return { entries, timed: state2 };
}

/**
 * checkWorldInfo's character filter by name (getCharaFilename, the card's file name, usually its name). Tag filters
 * name ST tag ids of the install that wrote the file, which mean nothing here, so they are not applied.
 */
function filteredOut(lore: LoreItem['entry'], characterName: string | undefined): boolean {
  const names = lore.characterFilter?.names;
  if (!names?.length || characterName === undefined) return false;
  const included = names.includes(characterName);
  return lore.characterFilter!.isExclude ? included : !included;
}

/** The tokens ST allows world info: world_info_budget percent of the context, capped by the book's token_budget. */
export function loreBudget(contextWindow: number, book?: LoreBookSettings): number {
  const budget = Math.round((LORE_DEFAULTS.budgetPercent * contextWindow) / 100) || 1;
  return book?.tokenBudget && book.tokenBudget > 0 ? Math.min(budget, book.tokenBudget) : budget;
}

/** ST's matchSecondaryKeys: AND_ANY, NOT_ALL, NOT_ANY, AND_ALL over the secondary keys' matches. */
function secondaryHolds(logic: string, hits: boolean[]): boolean {
  switch (logic) {
    case 'not_all':
      return hits.some((hit) => !hit);
    case 'not_any':
      return !hits.some(Boolean);
    case 'and_all':
      return hits.every(Boolean);
    default:
      return hits.some(Boolean);
  }
}

/** WorldInfoBuffer.getScore: matched keys, counting secondary ones only for AND_ANY and a complete AND_ALL. */
function groupScore(entry: ScanEntry, matches: (key: string) => boolean): number {
  const primary = entry.item.entry.keys ?? [];
  const secondary = entry.item.entry.secondaryKeys ?? [];
  if (!primary.length) return 0;
  const primaryScore = primary.filter(matches).length;
  const secondaryScore = secondary.filter(matches).length;
  if (secondary.length) {
    const logic = entry.item.entry.selectiveLogic ?? 'and_any';
    if (logic === 'and_any') return primaryScore + secondaryScore;
    if (logic === 'and_all') return secondaryScore === secondary.length ? primaryScore + secondaryScore : primaryScore;
  }
  return primaryScore;
}

function delayLevelOf(value: boolean | number | undefined): number {
  return value === true ? 1 : Number(value) || 0;
}

/**
 * ST's parseDecorators: lines at the top of the content starting with @@ are decorators. Known ones
 * (@@activate, @@dont_activate) are kept; an unknown one is dropped and lets the next @@@ line stand in as a
 * fallback. Either way they leave the content.
 */
export function parseDecorators(content: string): [string[], string] {
  if (!content.startsWith('@@')) return [[], content];
  const known = (line: string) =>
    KNOWN_DECORATORS.some((decorator) => (line.startsWith('@@@') ? line.slice(1) : line).startsWith(decorator));
  const lines = content.split('\n');
  const decorators: string[] = [];
  let fallback = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith('@@')) return [decorators, lines.slice(i).join('\n')];
    if (line.startsWith('@@@') && !fallback) continue;
    if (known(line)) {
      decorators.push(line.startsWith('@@@') ? line.slice(1) : line);
      fallback = false;
    } else fallback = true;
  }
  return [decorators, content];
}

/** Kept for callers that only need what fires for some text (tests, /lore tools): no budget, no timed state. */
export function selectLore(
  items: LoreItem[],
  recent: string[],
  options: { budgetTokens?: number; scanDepth?: number } = {},
): ActivatedLore[] {
  return activateLore(items, {
    messages: recent,
    budgetTokens: options.budgetTokens ?? Number.MAX_SAFE_INTEGER,
    book: { scanDepth: options.scanDepth ?? Math.max(recent.length, 1) },
  }).entries;
}
