import { describe, expect, it } from 'vitest';
import { activateLore, parseDecorators, type LoreScan } from '../../src/knowledge/lore-select.js';
import type { LoreItem } from '../../src/knowledge/lore.js';
import type { LoreEntry } from '../../src/knowledge/types.js';

/**
 * Expected outcomes are SillyTavern's, read from public/scripts/world-info.js (checkWorldInfo and the helpers
 * named per case) with ST's shipped defaults from default/content/settings.json: scan depth 2, recursive
 * scanning on, case-insensitive, whole words on, author names in the scanned text.
 */
const next = 0;
const lore = (name: string, entry: Partial<LoreEntry>): LoreItem => ({
  id: name,
  name,
  entry: { keys: [], content: `About ${name}.`, ...entry, ...(entry.content ? {} : { content: `About ${name}.` }) },
});
void next;

interface Case {
  name: string;
  /** The ST function the expectation comes from. */
  from: string;
  entries: LoreItem[];
  messages: string[];
  scan?: Partial<LoreScan>;
  expected: string[];
}

const cases: Case[] = [
  // matchKeys: plain keys are compared lower-cased unless case-sensitive.
  {
    name: 'plain key, any case',
    from: 'WorldInfoBuffer.matchKeys',
    entries: [lore('dragon', { keys: ['Dragon'] })],
    messages: ['Alex: a DRAGON lands'],
    expected: ['dragon'],
  },
  // matchKeys with caseSensitive: no lower-casing.
  {
    name: 'case-sensitive key, wrong case',
    from: 'WorldInfoBuffer.matchKeys',
    entries: [lore('rose', { keys: ['Rose'], caseSensitive: true })],
    messages: ['Alex: the sun rose early'],
    expected: [],
  },
  {
    name: 'case-sensitive key, right case',
    from: 'WorldInfoBuffer.matchKeys',
    entries: [lore('rose', { keys: ['Rose'], caseSensitive: true })],
    messages: ['Alex: Rose is here'],
    expected: ['rose'],
  },
  // matchKeys, whole words: (?:^|\W)key(?:$|\W).
  {
    name: 'whole words: not inside a word',
    from: 'WorldInfoBuffer.matchKeys',
    entries: [lore('cat', { keys: ['cat'] })],
    messages: ['Alex: we concatenate'],
    expected: [],
  },
  {
    name: 'whole words: plural is another word',
    from: 'WorldInfoBuffer.matchKeys',
    entries: [lore('cat', { keys: ['cat'] })],
    messages: ['Alex: cats sleep'],
    expected: [],
  },
  {
    name: 'whole words: bounded by punctuation',
    from: 'WorldInfoBuffer.matchKeys',
    entries: [lore('cat', { keys: ['cat'] })],
    messages: ['Alex: the cat, asleep'],
    expected: ['cat'],
  },
  {
    name: 'whole words off: substring matches',
    from: 'WorldInfoBuffer.matchKeys',
    entries: [lore('cat', { keys: ['cat'], matchWholeWords: false })],
    messages: ['Alex: we concatenate'],
    expected: ['cat'],
  },
  // matchKeys: a key of several words only needs to occur (haystack.includes).
  {
    name: 'multi-word key is a substring test',
    from: 'WorldInfoBuffer.matchKeys',
    entries: [lore('ship', { keys: ['red ship'] })],
    messages: ['Alex: the red shipyard'],
    expected: ['ship'],
  },
  // parseRegexFromString: /…/ keys are regexes with their own flags; case is up to the flags.
  {
    name: '/regex/ key',
    from: 'parseRegexFromString',
    entries: [lore('rx', { keys: ['/drag(on|oness)\\b/i'] })],
    messages: ['Alex: THE DRAGONESS sleeps'],
    expected: ['rx'],
  },
  {
    name: '/regex/ key without i is case-sensitive',
    from: 'parseRegexFromString',
    entries: [lore('rx', { keys: ['/dragon/'] })],
    messages: ['Alex: a Dragon'],
    expected: [],
  },
  // Only /…/ keys are regexes: an imported entry's use_regex does not make "colou?r" a pattern.
  {
    name: 'imported use_regex key stays literal',
    from: 'parseRegexFromString',
    entries: [lore('colour', { keys: ['colou?r'], useRegex: true, original: {} })],
    messages: ['Alex: what color?'],
    expected: [],
  },
  {
    name: 'invalid /regex/ is matched as text',
    from: 'parseRegexFromString',
    entries: [lore('bad', { keys: ['/(unclosed/'] })],
    messages: ['Alex: /(unclosed/ here'],
    expected: ['bad'],
  },
  // selectiveLogic, in checkWorldInfo's matchSecondaryKeys.
  {
    name: 'AND_ANY: needs one secondary',
    from: 'checkWorldInfo › matchSecondaryKeys',
    entries: [lore('wreck', { keys: ['wreck'], secondaryKeys: ['gold', 'silver'], selective: true, selectiveLogic: 'and_any' })],
    messages: ['Alex: the wreck'],
    expected: [],
  },
  {
    name: 'AND_ANY: one secondary present',
    from: 'checkWorldInfo › matchSecondaryKeys',
    entries: [lore('wreck', { keys: ['wreck'], secondaryKeys: ['gold', 'silver'], selective: true })],
    messages: ['Alex: gold in the wreck'],
    expected: ['wreck'],
  },
  {
    name: 'AND_ALL: all secondaries needed',
    from: 'checkWorldInfo › matchSecondaryKeys',
    entries: [lore('wreck', { keys: ['wreck'], secondaryKeys: ['gold', 'silver'], selective: true, selectiveLogic: 'and_all' })],
    messages: ['Alex: gold in the wreck'],
    expected: [],
  },
  {
    name: 'AND_ALL: all present',
    from: 'checkWorldInfo › matchSecondaryKeys',
    entries: [lore('wreck', { keys: ['wreck'], secondaryKeys: ['gold', 'silver'], selective: true, selectiveLogic: 'and_all' })],
    messages: ['Alex: gold and silver in the wreck'],
    expected: ['wreck'],
  },
  {
    name: 'NOT_ANY: none present fires',
    from: 'checkWorldInfo › matchSecondaryKeys',
    entries: [lore('wreck', { keys: ['wreck'], secondaryKeys: ['gold'], selective: true, selectiveLogic: 'not_any' })],
    messages: ['Alex: the wreck'],
    expected: ['wreck'],
  },
  {
    name: 'NOT_ANY: one present blocks',
    from: 'checkWorldInfo › matchSecondaryKeys',
    entries: [lore('wreck', { keys: ['wreck'], secondaryKeys: ['gold'], selective: true, selectiveLogic: 'not_any' })],
    messages: ['Alex: gold in the wreck'],
    expected: [],
  },
  {
    name: 'NOT_ALL: one missing fires',
    from: 'checkWorldInfo › matchSecondaryKeys',
    entries: [lore('wreck', { keys: ['wreck'], secondaryKeys: ['gold', 'silver'], selective: true, selectiveLogic: 'not_all' })],
    messages: ['Alex: gold in the wreck'],
    expected: ['wreck'],
  },
  {
    name: 'NOT_ALL: all present blocks',
    from: 'checkWorldInfo › matchSecondaryKeys',
    entries: [lore('wreck', { keys: ['wreck'], secondaryKeys: ['gold', 'silver'], selective: true, selectiveLogic: 'not_all' })],
    messages: ['Alex: gold, silver, wreck'],
    expected: [],
  },
  // A secondary key alone never activates: primary keys are checked first.
  {
    name: 'secondary alone does nothing',
    from: 'checkWorldInfo (primaryKeyMatch)',
    entries: [lore('wreck', { keys: ['wreck'], secondaryKeys: ['gold'], selective: true })],
    messages: ['Alex: gold!'],
    expected: [],
  },
  // constant: activated without keys.
  {
    name: 'constant entry',
    from: 'checkWorldInfo (entry.constant)',
    entries: [lore('always', { constant: true })],
    messages: ['Alex: hello'],
    expected: ['always'],
  },
  {
    name: 'disabled entry never fires',
    from: 'checkWorldInfo (entry.disable)',
    entries: [lore('off', { keys: ['hello'], enabled: false, constant: true })],
    messages: ['Alex: hello'],
    expected: [],
  },
  {
    name: 'no keys, not constant: never',
    from: 'checkWorldInfo (no keys defined)',
    entries: [lore('keyless', {})],
    messages: ['Alex: About keyless.'],
    expected: [],
  },
  // WorldInfoBuffer.get: scan depth 2 by default; the entry's scanDepth wins over the book's.
  {
    name: 'default scan depth is 2 messages',
    from: 'WorldInfoBuffer.get',
    entries: [lore('old', { keys: ['lighthouse'] })],
    messages: ['Alex: the lighthouse', 'Aria: yes', 'Alex: ok'],
    expected: [],
  },
  {
    name: 'book scan depth 3 reaches it',
    from: 'WorldInfoBuffer.get',
    entries: [lore('old', { keys: ['lighthouse'] })],
    messages: ['Alex: the lighthouse', 'Aria: yes', 'Alex: ok'],
    scan: { book: { scanDepth: 3 } },
    expected: ['old'],
  },
  {
    name: 'entry scan depth beats the book',
    from: 'WorldInfoBuffer.get',
    entries: [lore('old', { keys: ['lighthouse'], scanDepth: 1 })],
    messages: ['Alex: the lighthouse', 'Alex: ok'],
    scan: { book: { scanDepth: 5 } },
    expected: [],
  },
  {
    name: 'scan depth 0 scans nothing',
    from: 'WorldInfoBuffer.get',
    entries: [lore('now', { keys: ['now'], scanDepth: 0 })],
    messages: ['Alex: now'],
    expected: [],
  },
  // world_info_include_names: the author's name is in the scanned text.
  {
    name: 'author names are scanned',
    from: 'getWorldInfoPrompt (world_info_include_names)',
    entries: [lore('alex', { keys: ['Alex'] })],
    messages: ['Alex: hi'],
    expected: ['alex'],
  },
  // Recursion: activated content is scanned again (world_info_recursive, on by default).
  {
    name: 'recursion chains entries',
    from: 'checkWorldInfo (scan_state.RECURSION)',
    entries: [lore('a', { keys: ['harbor'], content: 'The harbor has a lighthouse.' }), lore('b', { keys: ['lighthouse'] })],
    messages: ['Alex: the harbor'],
    expected: ['a', 'b'],
  },
  {
    name: 'book without recursive scanning',
    from: 'checkWorldInfo (world_info_recursive)',
    entries: [lore('a', { keys: ['harbor'], content: 'The harbor has a lighthouse.' }), lore('b', { keys: ['lighthouse'] })],
    messages: ['Alex: the harbor'],
    scan: { book: { recursiveScanning: false } },
    expected: ['a'],
  },
  {
    name: 'preventRecursion keeps content out of the scan',
    from: 'checkWorldInfo (successfulNewEntriesForRecursion)',
    entries: [
      lore('a', { keys: ['harbor'], content: 'The harbor has a lighthouse.', preventRecursion: true }),
      lore('b', { keys: ['lighthouse'] }),
    ],
    messages: ['Alex: the harbor'],
    expected: ['a'],
  },
  {
    name: 'excludeRecursion: not activated by recursion',
    from: 'checkWorldInfo (excludeRecursion)',
    entries: [
      lore('a', { keys: ['harbor'], content: 'The harbor has a lighthouse.' }),
      lore('b', { keys: ['lighthouse'], excludeRecursion: true }),
    ],
    messages: ['Alex: the harbor'],
    expected: ['a'],
  },
  {
    name: 'excludeRecursion: still activated by the chat',
    from: 'checkWorldInfo (excludeRecursion)',
    entries: [lore('b', { keys: ['lighthouse'], excludeRecursion: true })],
    messages: ['Alex: the lighthouse'],
    expected: ['b'],
  },
  {
    name: 'delayUntilRecursion: not from the chat',
    from: 'checkWorldInfo (delayUntilRecursion)',
    entries: [lore('b', { keys: ['lighthouse'], delayUntilRecursion: true })],
    messages: ['Alex: the lighthouse'],
    expected: [],
  },
  {
    name: 'delayUntilRecursion: from recursion',
    from: 'checkWorldInfo (delayUntilRecursion)',
    entries: [
      lore('a', { keys: ['harbor'], content: 'The harbor has a lighthouse.' }),
      lore('b', { keys: ['lighthouse'], delayUntilRecursion: true }),
    ],
    messages: ['Alex: the harbor'],
    expected: ['a', 'b'],
  },
  // Probability: useProbability with probability < 100 rolls Math.random() * 100 <= probability.
  {
    name: 'probability 0 never fires',
    from: 'checkWorldInfo › verifyProbability',
    entries: [lore('rare', { keys: ['hello'], probability: 0 })],
    messages: ['Alex: hello'],
    scan: { random: () => 0.5 },
    expected: [],
  },
  {
    name: 'probability 60 with roll 50 fires',
    from: 'checkWorldInfo › verifyProbability',
    entries: [lore('rare', { keys: ['hello'], probability: 60 })],
    messages: ['Alex: hello'],
    scan: { random: () => 0.5 },
    expected: ['rare'],
  },
  {
    name: 'probability ignored when useProbability is off',
    from: 'checkWorldInfo › verifyProbability',
    entries: [lore('rare', { keys: ['hello'], probability: 0, useProbability: false })],
    messages: ['Alex: hello'],
    expected: ['rare'],
  },
  // Budget: entries are considered highest order first; the one that reaches the budget stops the scan.
  {
    name: 'budget keeps the higher insertion order',
    from: 'checkWorldInfo (budget overflow)',
    entries: [
      lore('low', { keys: ['x'], insertionOrder: 10, content: 'word '.repeat(30) }),
      lore('high', { keys: ['x'], insertionOrder: 90, content: 'high '.repeat(30) }),
    ],
    messages: ['Alex: x'],
    scan: { budgetTokens: 40 },
    expected: ['high'],
  },
  // Inclusion groups: override wins; a group already in the prompt admits no other.
  {
    name: 'group override wins',
    from: 'filterByInclusionGroups',
    entries: [lore('g1', { keys: ['x'], group: 'weather' }), lore('g2', { keys: ['x'], group: 'weather', groupOverride: true })],
    messages: ['Alex: x'],
    expected: ['g2'],
  },
  {
    name: 'group draws one by weight',
    from: 'filterByInclusionGroups',
    entries: [
      lore('g1', { keys: ['x'], group: 'weather', groupWeight: 50 }),
      lore('g2', { keys: ['x'], group: 'weather', groupWeight: 50 }),
    ],
    messages: ['Alex: x'],
    scan: { random: () => 0.9 },
    expected: ['g2'],
  },
  {
    name: 'group scoring keeps the better match',
    from: 'filterGroupsByScoring',
    entries: [
      lore('g1', { keys: ['x'], group: 'w', useGroupScoring: true }),
      lore('g2', { keys: ['x', 'y'], group: 'w', useGroupScoring: true }),
    ],
    messages: ['Alex: x y'],
    scan: { random: () => 0 },
    expected: ['g2'],
  },
  // Decorators (parseDecorators; KNOWN_DECORATORS = @@activate, @@dont_activate).
  {
    name: '@@activate fires without keys',
    from: 'parseDecorators / checkWorldInfo',
    entries: [lore('forced', { content: '@@activate\nForced in.' })],
    messages: ['Alex: hi'],
    expected: ['forced'],
  },
  {
    name: '@@dont_activate blocks keys',
    from: 'parseDecorators / checkWorldInfo',
    entries: [lore('never', { keys: ['hi'], content: '@@dont_activate\nNever.' })],
    messages: ['Alex: hi'],
    expected: [],
  },
  // Timed effects (WorldInfoTimedEffects).
  {
    name: 'delay: off while the chat is shorter',
    from: 'WorldInfoTimedEffects #checkDelayEffect',
    entries: [lore('late', { keys: ['hi'], delay: 5 })],
    messages: ['Alex: hi'],
    scan: { chatLength: 3 },
    expected: [],
  },
  {
    name: 'delay: on once the chat is long enough',
    from: 'WorldInfoTimedEffects #checkDelayEffect',
    entries: [lore('late', { keys: ['hi'], delay: 5 })],
    messages: ['Alex: hi'],
    scan: { chatLength: 5 },
    expected: ['late'],
  },
  {
    name: 'sticky: stays without its key',
    from: 'WorldInfoTimedEffects (sticky)',
    entries: [lore('s', { keys: ['storm'], sticky: 3 })],
    messages: ['Alex: calm'],
    scan: { chatLength: 11, timed: { sticky: { s: { start: 10, end: 13 } }, cooldown: {} } },
    expected: ['s'],
  },
  {
    name: 'cooldown: blocks its key',
    from: 'WorldInfoTimedEffects (cooldown)',
    entries: [lore('c', { keys: ['storm'], cooldown: 3 })],
    messages: ['Alex: storm'],
    scan: { chatLength: 11, timed: { sticky: {}, cooldown: { c: { start: 10, end: 13 } } } },
    expected: [],
  },
  {
    name: 'cooldown over: fires again',
    from: 'WorldInfoTimedEffects (cooldown)',
    entries: [lore('c', { keys: ['storm'], cooldown: 3 })],
    messages: ['Alex: storm'],
    scan: { chatLength: 13, timed: { sticky: {}, cooldown: { c: { start: 10, end: 13 } } } },
    expected: ['c'],
  },
  // Macros in keys are substituted before matching (substituteParams(key)).
  {
    name: '{{user}} in a key',
    from: 'checkWorldInfo (substituteParams(key))',
    entries: [lore('me', { keys: ['{{user}}'] })],
    messages: ['Aria: hello Alex'],
    scan: { substitute: (text) => text.replace('{{user}}', 'Alex') },
    expected: ['me'],
  },
  // WorldInfoBuffer.get: an entry that asks for it also scans the persona description and the card's fields
  // (globalScanData, passed by Generate in script.js); the others scan only the chat.
  {
    name: 'key only in the character description, entry asks to scan it',
    from: 'WorldInfoBuffer.get (matchCharacterDescription)',
    entries: [lore('guild', { keys: ['Silver Guild'], matchCharacterDescription: true }), lore('plain', { keys: ['Silver Guild'] })],
    messages: ['Alex: hello'],
    scan: { globalScanData: { characterDescription: 'Mira is a member of the Silver Guild.' } },
    expected: ['guild'],
  },
  {
    name: 'key only in the persona description',
    from: 'WorldInfoBuffer.get (matchPersonaDescription)',
    entries: [lore('elf', { keys: ['elf'], matchPersonaDescription: true }), lore('scenario', { keys: ['elf'], matchScenario: true })],
    messages: ['Alex: hello'],
    // Without recursion: the activated entry's own text ("About elf.") would activate the other one.
    scan: {
      book: { recursiveScanning: false },
      globalScanData: { personaDescription: 'Alex is a tall elf.', scenario: 'A quiet harbour.' },
    },
    expected: ['elf'],
  },
  {
    name: 'scenario, personality, depth prompt and creator notes each by its own flag',
    from: 'WorldInfoBuffer.get (matchScenario, matchCharacterPersonality, matchCharacterDepthPrompt, matchCreatorNotes)',
    entries: [
      lore('storm', { keys: ['storm'], matchScenario: true }),
      lore('brave', { keys: ['brave'], matchCharacterPersonality: true }),
      lore('whisper', { keys: ['whisper'], matchCharacterDepthPrompt: true }),
      lore('v2', { keys: ['v2'], matchCreatorNotes: true }),
      lore('crossed', { keys: ['storm'], matchCreatorNotes: true }),
    ],
    messages: ['Alex: hello'],
    scan: {
      book: { recursiveScanning: false },
      globalScanData: {
        scenario: 'A storm is coming.',
        characterPersonality: 'brave, curt',
        characterDepthPrompt: 'Mira speaks in a whisper.',
        creatorNotes: 'Made for v2 cards.',
      },
    },
    expected: ['storm', 'brave', 'whisper', 'v2'],
  },
  {
    name: 'scan depth 0 scans nothing, the card fields included',
    from: 'WorldInfoBuffer.get (depth <= startDepth returns an empty string)',
    entries: [lore('guild', { keys: ['guild'], matchCharacterDescription: true, scanDepth: 0 })],
    messages: ['Alex: the guild'],
    scan: { globalScanData: { characterDescription: 'A guild member.' } },
    expected: [],
  },
  // checkWorldInfo: entry.characterFilter.names against getCharaFilename(); isExclude turns it around.
  {
    name: 'character filter: for named characters only, or for all but them',
    from: 'checkWorldInfo (characterFilter.names, isExclude)',
    entries: [
      lore('mine', { keys: ['harbour'], characterFilter: { isExclude: false, names: ['Mira'], tags: [] } }),
      lore('theirs', { keys: ['harbour'], characterFilter: { isExclude: false, names: ['Borin'], tags: [] } }),
      lore('not-mira', { keys: ['harbour'], characterFilter: { isExclude: true, names: ['Mira'], tags: [] } }),
      lore('not-borin', { keys: ['harbour'], characterFilter: { isExclude: true, names: ['Borin'], tags: [] } }),
    ],
    messages: ['Alex: the harbour'],
    scan: { characterName: 'Mira', book: { recursiveScanning: false } },
    expected: ['mine', 'not-borin'],
  },
];

describe('lorebook activation, case by case against SillyTavern', () => {
  it.each(cases)('$name ($from)', ({ entries, messages, scan, expected }) => {
    const result = activateLore(entries, { messages, budgetTokens: 10_000, ...scan });
    expect(result.entries.map((entry) => entry.item.name).sort()).toEqual([...expected].sort());
  });

  it('has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));
});

describe('lorebook activation: what goes into the prompt', () => {
  it('orders entries by insertion order, lower first, as ST joins them (checkWorldInfo: sortFn then unshift)', () => {
    const result = activateLore(
      [
        lore('late', { constant: true, insertionOrder: 200 }),
        lore('early', { constant: true, insertionOrder: 5 }),
        lore('mid', { constant: true }),
      ],
      { messages: [], budgetTokens: 10_000 },
    );
    expect(result.entries.map((entry) => entry.item.name)).toEqual(['early', 'mid', 'late']);
  });

  it('fills macros in content, strips decorators, and keeps position, depth and role (ST defaults: depth 4, system)', () => {
    const [entry] = activateLore([lore('d', { constant: true, content: '@@activate\n{{char}} knows.', position: 'at_depth' })], {
      messages: [],
      budgetTokens: 1000,
      substitute: (text) => text.replace('{{char}}', 'Aria'),
    }).entries;
    expect(entry).toMatchObject({ content: 'Aria knows.', position: 'at_depth', depth: 4, role: 'system', trigger: '@@activate' });
  });

  it('starts sticky and cooldown effects for what it activates, and a sticky end starts a protected cooldown', () => {
    const entry = lore('s', { keys: ['storm'], sticky: 2, cooldown: 3 });
    const first = activateLore([entry], { messages: ['Alex: storm'], budgetTokens: 1000, chatLength: 4 });
    expect(first.timed).toEqual({ sticky: { s: { start: 4, end: 6 } }, cooldown: { s: { start: 4, end: 7 } } });
    const ended = activateLore([entry], {
      messages: ['Alex: storm'],
      budgetTokens: 1000,
      chatLength: 6,
      timed: { sticky: first.timed.sticky, cooldown: {} },
    });
    expect(ended.entries).toEqual([]);
    expect(ended.timed.cooldown.s).toEqual({ start: 6, end: 9, protected: true });
  });

  it('parses decorators as ST does: unknown ones leave the content, @@@ is a fallback', () => {
    expect(parseDecorators('@@activate\nText')).toEqual([['@@activate'], 'Text']);
    expect(parseDecorators('@@depth 3\n@@@activate\nText')).toEqual([['@@activate'], 'Text']);
    expect(parseDecorators('@@@activate\nText')).toEqual([[], 'Text']);
    expect(parseDecorators('No decorators')).toEqual([[], 'No decorators']);
  });
});
