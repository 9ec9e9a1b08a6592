/**
 * Lore keywords: how one key becomes a matcher, and how people write lists of
 * keys. Pure; shared by selection (src/knowledge/lore.ts) and validation.
 */

/** Longest regex key compiled; longer ones are ignored (and refused by /lore). */
export const MAX_REGEX_KEY_LENGTH = 200;

const SLASH_FORM = /^\/(.+)\/([dgimsuvy]*)$/s;
/** Flags that change nothing between calls; g and y make test() stateful and are dropped. */
const KEPT_FLAGS = new Set(['i', 'm', 's', 'u', 'v']);
/**
 * A quantified group that itself holds a quantifier, such as (a+)+ or (\w*\s)*:
 * the usual shape of a pattern whose matching time explodes. A heuristic, not a proof.
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

export interface KeyOptions {
  caseSensitive?: boolean;
  useRegex?: boolean;
}

export type KeyCheck = { ok: true; regex: RegExp } | { ok: false; reason: string };

/** Whether a key is read as a regular expression: the entry says so, or it is written /pattern/flags. */
export function isRegexKey(key: string, options: KeyOptions): boolean {
  return options.useRegex === true || SLASH_FORM.test(key.trim());
}

/**
 * The matcher of one key, or the reason there is none. Plain keys match
 * anywhere, but as whole words where they begin or end with a letter or
 * digit ("cat" does not fire on "concatenate"). Matching ignores case unless
 * the entry is case-sensitive.
 */
export function compileKey(rawKey: string, options: KeyOptions): KeyCheck {
  const key = rawKey.trim();
  if (!key) return { ok: false, reason: 'it is empty' };
  if (!isRegexKey(key, options)) {
    const start = WORD_CHAR.test(key[0]!) ? '(?<![\\p{L}\\p{N}_])' : '';
    const end = WORD_CHAR.test(key.at(-1)!) ? '(?![\\p{L}\\p{N}_])' : '';
    return { ok: true, regex: new RegExp(`${start}${escapeRegex(key)}${end}`, options.caseSensitive ? 'u' : 'iu') };
  }
  if (key.length > MAX_REGEX_KEY_LENGTH)
    return { ok: false, reason: `a regular expression key may be at most ${MAX_REGEX_KEY_LENGTH} characters` };
  const slashed = SLASH_FORM.exec(key);
  const pattern = slashed ? slashed[1]! : key;
  const flags = new Set([...(slashed?.[2] ?? '')].filter((flag) => KEPT_FLAGS.has(flag)));
  if (!options.caseSensitive) flags.add('i');
  if (NESTED_QUANTIFIER.test(pattern))
    return { ok: false, reason: 'a repeated group that holds a repetition, like (a+)+, can take very long to match' };
  try {
    return { ok: true, regex: new RegExp(pattern, [...flags].join('')) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: message.split(': ').at(-1) ?? message };
  }
}

/**
 * SillyTavern's `parseRegexFromString` (public/scripts/utils.js): a key written `/pattern/flags` is a regular
 * expression, any other key is plain text. A pattern with an unescaped `/` inside is not a regex (ST returns null
 * and the key is then matched as text). The g and y flags are dropped (they make test() stateful), and a pattern
 * shaped like (a+)+ is refused as too slow to match.
 */
function regexOfKey(key: string): RegExp | undefined {
  const match = /^\/([\w\W]+?)\/([gimsuy]*)$/.exec(key);
  if (!match) return undefined;
  const [, raw, flags] = match;
  if (/(^|[^\\])\//.test(raw!) || raw!.length > MAX_REGEX_KEY_LENGTH || NESTED_QUANTIFIER.test(raw!)) return undefined;
  try {
    return new RegExp(raw!.replace('\\/', '/'), [...flags!].filter((flag) => flag !== 'g' && flag !== 'y').join(''));
  } catch {
    return undefined;
  }
}

export interface MatchOptions {
  /** ST's entry `caseSensitive` ?? world_info_case_sensitive (false in ST's shipped settings). */
  caseSensitive: boolean;
  /** ST's entry `matchWholeWords` ?? world_info_match_whole_words (true in ST's shipped settings). */
  wholeWords: boolean;
  /** The entry was made here with /lore's regex option: its keys are regexes even without slashes. */
  regex?: boolean;
}

/**
 * Whether one key occurs in the scanned text, as SillyTavern's `WorldInfoBuffer.matchKeys`
 * (public/scripts/world-info.js) decides: a /regex/ key is tested as written (its own flags decide case); a plain
 * key is compared after lower-casing both sides unless case-sensitive; with whole words, a single-word key must be
 * bounded by a non-word character or the text's ends (`(?:^|\W)key(?:$|\W)`), while a key of several words only
 * needs to occur.
 */
export function matchKey(text: string, rawKey: string, options: MatchOptions): boolean {
  const key = rawKey.trim();
  if (!key) return false;
  const regex = regexOfKey(key) ?? (options.regex ? compiledRegex(key, options.caseSensitive) : undefined);
  if (regex) return regex.test(text);
  const haystack = options.caseSensitive ? text : text.toLowerCase();
  const needle = options.caseSensitive ? key : key.toLowerCase();
  if (!options.wholeWords || needle.split(/\s+/).length > 1) return haystack.includes(needle);
  return new RegExp(`(?:^|\\W)(${escapeRegex(needle)})(?:$|\\W)`).test(haystack);
}

function compiledRegex(key: string, caseSensitive: boolean): RegExp | undefined {
  const check = compileKey(key, { useRegex: true, caseSensitive });
  return check.ok ? check.regex : undefined;
}

/**
 * Splits a typed list of keys on commas and new lines, except inside a
 * /pattern/flags key (whose pattern may hold commas, as in /a{1,3}/).
 */
export function splitKeys(text: string): string[] {
  const keys: string[] = [];
  let rest = text;
  while (rest.trim()) {
    rest = rest.replace(/^[\s,]+/, '');
    const literal = /^\/(?:[^/\\\n]|\\.)+\/[dgimsuvy]*(?=\s*(?:,|\n|$))/.exec(rest);
    const end = literal ? literal[0].length : rest.search(/[,\n]|$/);
    const key = rest.slice(0, end).trim();
    if (key) keys.push(key);
    rest = rest.slice(end);
  }
  return keys;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
