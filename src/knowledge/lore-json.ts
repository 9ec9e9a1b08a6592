import { isDeepStrictEqual } from 'node:util';
import { LORE_LOGICS, LORE_POSITIONS, type LoreEntry, type LoreRole } from './types.js';

/**
 * Lorebook entries as JSON, both ways, in the two shapes SillyTavern uses: a card's `character_book.entries[]`
 * (Character Card V2/V3, with ST's own settings in the entry's `extensions`) and a world-info file's `entries`
 * (keyed by uid, camelCase fields). Field names and defaults follow ST's public/scripts/world-info.js
 * (`convertCharacterBook`, `newWorldInfoEntryTemplate`) and src/endpoints/characters.js
 * (`convertWorldInfoToCharacterBook`).
 *
 * Reading never fails on a null or odd value (it is just not read), and writing starts from the entry's `original`
 * JSON and changes only the fields whose value differs from what that original reads as: an entry nobody edited is
 * exported exactly as it came, every key kept, nested ones included.
 */
export type Json = Record<string, unknown>;
export type EntryFormat = 'card' | 'world';

const ROLES: LoreRole[] = ['system', 'user', 'assistant'];

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const bool = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);
function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}
function strings(value: unknown): string[] | undefined {
  if (typeof value === 'string')
    return value
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean);
  return Array.isArray(value) ? value.filter((key): key is string => typeof key === 'string') : undefined;
}
const indexIn = <T>(list: readonly T[], value: unknown): T | undefined => {
  const n = num(value);
  return n !== undefined && Number.isInteger(n) ? list[n] : undefined;
};
const ext = (json: Json): Json => (isObject(json.extensions) ? json.extensions : {});
function setExt(json: Json, key: string, value: unknown): void {
  if (!isObject(json.extensions)) json.extensions = {};
  (json.extensions as Json)[key] = value;
}

interface Field {
  read(json: Json): unknown;
  write(json: Json, value: never): void;
}
type Fields = Partial<Record<Exclude<keyof LoreEntry, 'original'>, Field>>;

/** A setting kept in the card entry's `extensions` under `cardKey` and at the top of a world-info entry under `worldKey`. */
function setting(
  cardKey: string,
  worldKey: string,
  read: (value: unknown) => unknown,
  write: (value: never) => unknown = (v) => v,
): [Field, Field] {
  return [
    { read: (json) => read(ext(json)[cardKey]), write: (json, value) => setExt(json, cardKey, write(value)) },
    { read: (json) => read(json[worldKey]), write: (json, value) => void (json[worldKey] = write(value)) },
  ];
}
const top = (key: string, read: (value: unknown) => unknown, write: (value: never) => unknown = (v) => v): Field => ({
  read: (json) => read(json[key]),
  write: (json, value) => void (json[key] = write(value)),
});

const positionIndex = (value: never) => LORE_POSITIONS.indexOf(value);
const shared = {
  selectiveLogic: setting(
    'selectiveLogic',
    'selectiveLogic',
    (v) => indexIn(LORE_LOGICS, v),
    (v) => LORE_LOGICS.indexOf(v),
  ),
  matchWholeWords: setting('match_whole_words', 'matchWholeWords', bool),
  depth: setting('depth', 'depth', num),
  role: setting(
    'role',
    'role',
    (v) => indexIn(ROLES, v),
    (v) => ROLES.indexOf(v),
  ),
  probability: setting('probability', 'probability', num),
  useProbability: setting('useProbability', 'useProbability', bool),
  scanDepth: setting('scan_depth', 'scanDepth', num),
  excludeRecursion: setting('exclude_recursion', 'excludeRecursion', bool),
  preventRecursion: setting('prevent_recursion', 'preventRecursion', bool),
  delayUntilRecursion: setting('delay_until_recursion', 'delayUntilRecursion', (v) => bool(v) ?? num(v)),
  group: setting('group', 'group', str),
  groupOverride: setting('group_override', 'groupOverride', bool),
  groupWeight: setting('group_weight', 'groupWeight', num),
  useGroupScoring: setting('use_group_scoring', 'useGroupScoring', bool),
  sticky: setting('sticky', 'sticky', num),
  cooldown: setting('cooldown', 'cooldown', num),
  delay: setting('delay', 'delay', num),
  vectorized: setting('vectorized', 'vectorized', bool),
  matchPersonaDescription: setting('match_persona_description', 'matchPersonaDescription', bool),
  matchCharacterDescription: setting('match_character_description', 'matchCharacterDescription', bool),
  matchCharacterPersonality: setting('match_character_personality', 'matchCharacterPersonality', bool),
  matchCharacterDepthPrompt: setting('match_character_depth_prompt', 'matchCharacterDepthPrompt', bool),
  matchScenario: setting('match_scenario', 'matchScenario', bool),
  matchCreatorNotes: setting('match_creator_notes', 'matchCreatorNotes', bool),
};
const sharedFor = (which: 0 | 1): Fields => Object.fromEntries(Object.entries(shared).map(([key, pair]) => [key, pair[which]]));

const CARD_FIELDS: Fields = {
  keys: top('keys', strings),
  secondaryKeys: top('secondary_keys', strings),
  content: top('content', str),
  // ST shows `comment` as the title; V2's `name` is the same thing for other apps.
  name: {
    read: (json) => str(json.comment) || str(json.name) || undefined,
    write: (json, value) => Object.assign(json, { comment: value, name: value }),
  },
  enabled: top('enabled', bool),
  constant: top('constant', bool),
  selective: top('selective', bool),
  // ST reads extensions.case_sensitive; the V2 spec's top-level field is the fallback.
  caseSensitive: {
    read: (json) => bool(ext(json).case_sensitive) ?? bool(json.case_sensitive),
    write: (json, value) => {
      json.case_sensitive = value;
      setExt(json, 'case_sensitive', value);
    },
  },
  useRegex: top('use_regex', bool),
  priority: top('priority', num),
  insertionOrder: top('insertion_order', num),
  position: {
    read: (json) =>
      indexIn(LORE_POSITIONS, ext(json).position) ??
      (json.position === 'before_char' || json.position === 'after_char' ? json.position : undefined),
    write: (json, value) => {
      json.position = value === 'before_char' ? 'before_char' : 'after_char';
      setExt(json, 'position', positionIndex(value));
    },
  },
  id: top('id', (v) => num(v) ?? str(v)),
  ...sharedFor(0),
};

const WORLD_FIELDS: Fields = {
  keys: top('key', strings),
  secondaryKeys: top('keysecondary', strings),
  content: top('content', str),
  name: top('comment', (v) => str(v) || undefined),
  enabled: top(
    'disable',
    (v) => (bool(v) === undefined ? undefined : !v),
    (v) => !v,
  ),
  constant: top('constant', bool),
  selective: top('selective', bool),
  caseSensitive: top('caseSensitive', bool),
  insertionOrder: top('order', num),
  position: top('position', (v) => indexIn(LORE_POSITIONS, v), positionIndex),
  id: top('uid', (v) => num(v) ?? str(v)),
  characterFilter: top('characterFilter', characterFilterOf),
  ...sharedFor(1),
};

/** A world-info entry's `characterFilter` ({ isExclude, names, tags }), when it names anyone. */
function characterFilterOf(value: unknown): LoreEntry['characterFilter'] {
  if (!isObject(value)) return undefined;
  const names = strings(value.names) ?? [];
  const tags = strings(value.tags) ?? [];
  if (!names.length && !tags.length) return undefined;
  return { isExclude: bool(value.isExclude) ?? false, names, tags };
}

/** ST settings with no LoreEntry field, carried when an entry moves between a card and a world-info file. */
const CARRIED: [card: string, world: string][] = [
  ['display_index', 'displayIndex'],
  ['automation_id', 'automationId'],
  ['triggers', 'triggers'],
  ['ignore_budget', 'ignoreBudget'],
  ['outlet_name', 'outletName'],
];

const FIELDS: Record<EntryFormat, Fields> = { card: CARD_FIELDS, world: WORLD_FIELDS };

/** Which shape an entry's JSON has: a world-info entry has `key`/`uid`, a card entry `keys`. */
function entryFormat(json: Json): EntryFormat {
  return Array.isArray(json.key) || typeof json.key === 'string' || 'uid' in json || 'disable' in json ? 'world' : 'card';
}

/** A card or world-info entry as a LoreEntry, with the JSON kept as `original`. */
export function loreFromJson(json: Json, format: EntryFormat = entryFormat(json)): LoreEntry {
  const entry: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(FIELDS[format])) {
    const value = field.read(json);
    if (value !== undefined) entry[key] = value;
  }
  return {
    ...entry,
    keys: (entry.keys as string[] | undefined) ?? [],
    content: (entry.content as string | undefined) ?? '',
    original: structuredClone(json),
  };
}

/**
 * The entry as JSON of `format`: its original (when it came in that shape) with the fields that changed written
 * over it, else a new entry with SillyTavern's defaults and the original's settings carried across.
 */
export function loreToJson(entry: LoreEntry, format: EntryFormat, index: number): Json {
  const original = entry.original && isObject(entry.original) ? entry.original : undefined;
  const sameShape = original !== undefined && entryFormat(original) === format;
  const json: Json = sameShape ? structuredClone(original) : seed(format, index, original);
  const before: Partial<LoreEntry> = sameShape ? loreFromJson(original, format) : {};
  for (const [key, field] of Object.entries(FIELDS[format])) {
    const value = entry[key as keyof LoreEntry];
    if (value === undefined || isDeepStrictEqual(value, before[key as keyof LoreEntry])) continue;
    field.write(json, value as never);
  }
  return format === 'card' ? withCardRequirements(json, index) : json;
}

/** The V2 spec's required entry fields, for entries that came without them. */
function withCardRequirements(json: Json, index: number): Json {
  if (!Array.isArray(json.keys)) json.keys = [];
  if (typeof json.content !== 'string') json.content = '';
  if (!isObject(json.extensions)) json.extensions = {};
  if (typeof json.enabled !== 'boolean') json.enabled = true;
  if (typeof json.insertion_order !== 'number') json.insertion_order = num(json.insertion_order) ?? index;
  return json;
}

function seed(format: EntryFormat, index: number, from?: Json): Json {
  if (format === 'card') {
    const extensions: Json = from && isObject(from.extensions) ? structuredClone(from.extensions) : {};
    for (const [card, world] of CARRIED) if (from && from[world] !== undefined) extensions[card] = structuredClone(from[world]);
    return {
      id: index,
      keys: [],
      secondary_keys: [],
      comment: '',
      content: '',
      constant: false,
      selective: true,
      insertion_order: 100,
      enabled: true,
      position: 'before_char',
      use_regex: false,
      extensions,
    };
  }
  // ST's newWorldInfoEntryTemplate, with a card entry's extra settings carried across.
  const json: Json = {
    uid: index,
    key: [],
    keysecondary: [],
    comment: '',
    content: '',
    constant: false,
    vectorized: false,
    selective: true,
    selectiveLogic: 0,
    addMemo: true,
    order: 100,
    position: 0,
    disable: false,
    excludeRecursion: false,
    preventRecursion: false,
    delayUntilRecursion: false,
    probability: 100,
    useProbability: true,
    depth: 4,
    group: '',
    groupOverride: false,
    groupWeight: 100,
    scanDepth: null,
    caseSensitive: null,
    matchWholeWords: null,
    useGroupScoring: null,
    automationId: '',
    role: null,
    sticky: 0,
    cooldown: 0,
    delay: 0,
    displayIndex: index,
    triggers: [],
  };
  const extensions = from && isObject(from.extensions) ? from.extensions : {};
  for (const [card, world] of CARRIED) if (extensions[card] !== undefined) json[world] = structuredClone(extensions[card]);
  if (from) json.extensions = structuredClone(extensions);
  return json;
}

/** The entries of a world-info file (`entries` keyed by uid, as ST saves it) or of a book (`entries` as a list). */
export function entriesOfBook(book: Json): Json[] | undefined {
  const entries = book.entries;
  if (Array.isArray(entries)) return entries.filter(isObject);
  if (isObject(entries)) return Object.values(entries).filter(isObject);
  return undefined;
}

/** A SillyTavern world-info file of these entries (uids kept when they are unique numbers). */
export function worldInfoFile(entries: LoreEntry[], extra: Json = {}): Json {
  const jsons = entries.map((entry, i) => loreToJson(entry, 'world', i));
  const uids = jsons.map((json) => num(json.uid));
  const unique = uids.every((uid) => uid !== undefined && Number.isInteger(uid)) && new Set(uids).size === uids.length;
  const keyed: Json = {};
  jsons.forEach((json, i) => {
    if (!unique) json.uid = i;
    keyed[String(json.uid)] = json;
  });
  return { ...extra, entries: keyed };
}
