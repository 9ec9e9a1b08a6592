/**
 * Cards built from the Character Card V2 and V3 specs and from the shapes SillyTavern writes (src/endpoints/
 * characters.js `charaFormatData`: V1 fields mirrored at the top, `extensions.talkativeness` as text, `fav`, `world`,
 * `depth_prompt`; public/scripts/world-info.js: every entry setting in the entry's `extensions`), plus Pygmalion and
 * Agnai exports. Unknown keys are nested on purpose: nothing may lose them.
 */
type Json = Record<string, unknown>;

const nestedUnknown = (i: number) => ({ some_app: { nested: { deep: [i, { x: null, y: [true, 'z'] }], empty: {} } } });

/** A lorebook entry with every field of the V2 spec and every setting ST keeps in `extensions`. */
export function fullEntry(i: number): Json {
  return {
    id: i,
    keys: [`key${i}`, `alias ${i}`],
    secondary_keys: [`second${i}`],
    comment: `Entry ${i}`,
    name: `Entry ${i}`,
    content: `What the character knows about thing ${i}.`,
    constant: i % 7 === 0,
    selective: i % 2 === 0,
    insertion_order: 100 + i,
    enabled: i % 10 !== 3,
    position: i % 2 ? 'after_char' : 'before_char',
    case_sensitive: i % 3 === 0,
    priority: i % 5,
    use_regex: i % 11 === 0,
    extensions: {
      position: i % 8,
      exclude_recursion: i % 2 === 1,
      prevent_recursion: i % 3 === 1,
      delay_until_recursion: i % 4 === 0 ? 2 : false,
      display_index: i,
      probability: 50 + (i % 50),
      useProbability: i % 5 !== 0,
      depth: i % 6,
      selectiveLogic: i % 4,
      group: `group ${i % 3}`,
      group_override: i % 2 === 0,
      group_weight: 100 - (i % 10),
      scan_depth: i % 5 || null,
      case_sensitive: i % 3 === 0,
      match_whole_words: i % 2 === 0,
      use_group_scoring: i % 3 === 2,
      automation_id: `auto-${i}`,
      role: i % 3,
      vectorized: i % 9 === 0,
      sticky: i % 3,
      cooldown: i % 4,
      delay: i % 2,
      triggers: ['normal', 'continue'],
      ignore_budget: i % 13 === 0,
      outlet_name: '',
      match_persona_description: false,
      match_character_description: i % 2 === 0,
      ...nestedUnknown(i),
    },
  };
}

function book(entries: Json[]): Json {
  return {
    name: 'Eldoria lore',
    description: 'The forest and its people.',
    scan_depth: 4,
    token_budget: 2048,
    recursive_scanning: true,
    extensions: { world_book_app: { version: 3, flags: [1, 2] } },
    entries,
  };
}

/** A V2 card as SillyTavern exports it, lorebook and all. */
export function v2Card(entries = 6): Json {
  const lore = Array.from({ length: entries }, (_, i) => fullEntry(i));
  lore.push({ ...fullEntry(entries), content: '', keys: [], enabled: true }, { ...fullEntry(entries + 1), enabled: false });
  return {
    name: 'Seraphina',
    description: 'A guardian of the forest.',
    personality: 'Kind, protective.',
    scenario: 'You wake up in her glade.',
    first_mes: 'You are safe now, {{user}}.',
    mes_example: '<START>\n{{char}}: Rest.',
    creatorcomment: 'Made for testing.',
    avatar: 'none',
    chat: 'Seraphina - 2024-1-1 @12h 00m 00s 000ms',
    talkativeness: '0.8',
    fav: false,
    tags: ['fantasy', 'forest'],
    create_date: '2024-1-1 @12h 00m 00s 000ms',
    spec: 'chara_card_v2',
    spec_version: '2.0',
    data: {
      name: 'Seraphina',
      description: 'A guardian of the forest.',
      personality: 'Kind, protective.',
      scenario: 'You wake up in her glade.',
      first_mes: 'You are safe now, {{user}}.',
      mes_example: '<START>\n{{char}}: Rest.',
      creator_notes: 'Made for testing.',
      system_prompt: 'Write in third person.',
      post_history_instructions: 'Stay gentle.',
      alternate_greetings: ['Welcome back.', 'Oh, you again!'],
      tags: ['fantasy', 'forest'],
      creator: 'tester',
      character_version: '1.2',
      extensions: {
        talkativeness: '0.8',
        fav: false,
        world: 'Eldoria',
        depth_prompt: { prompt: 'Seraphina is wary of fire.', depth: 4, role: 'system' },
        regex_scripts: [{ scriptName: 'trim', findRegex: '/\\s+$/', replaceString: '' }],
        ...nestedUnknown(-1),
      },
      character_book: book(lore),
    },
  };
}

/** A V3 card with every field V3 adds. */
export function v3Card(): Json {
  const v2 = v2Card(3);
  const { spec: _s, spec_version: _v, data, ...top } = v2 as { spec: string; spec_version: string; data: Json };
  void top;
  return {
    spec: 'chara_card_v3',
    spec_version: '3.0',
    data: {
      ...data,
      nickname: 'Sera',
      creator_notes_multilingual: { en: 'Made for testing.', fr: 'Fait pour les tests.' },
      source: ['https://example.com/seraphina'],
      group_only_greetings: ['Seraphina nods to everyone.'],
      creation_date: 1700000000,
      modification_date: 1700001000,
      assets: [{ type: 'icon', uri: 'ccdefault:', name: 'main', ext: 'png' }],
    },
  };
}

/** V1: the fields at the top, with SillyTavern's V1 extras. */
export function v1Card(): Json {
  return {
    name: 'Old Tom',
    description: 'A retired sailor.',
    personality: 'Gruff but fair.',
    scenario: 'A harbour tavern.',
    first_mes: 'Sit down, lad.',
    mes_example: '<START>\n{{char}}: Aye.',
    creatorcomment: 'A V1 card.',
    talkativeness: '0.3',
    fav: true,
    tags: 'sea, old',
    creator: 'someone',
    chat: 'Old Tom - 2023',
    create_date: '2023-5-1',
    unknown_v1_key: { kept: [1, 2, 3] },
  };
}

export function pygmalionCard(): Json {
  return {
    char_name: 'Pyg',
    char_persona: 'A cheerful robot.',
    world_scenario: 'A lab.',
    char_greeting: 'Beep! Hello.',
    example_dialogue: '<START>\nYou: Hi\nPyg: Beep.',
    creator: 'pyg-maker',
  };
}

export function agnaiCard(): Json {
  return {
    kind: 'character',
    name: 'Agna',
    greeting: 'Greetings, traveller.',
    scenario: 'A desert road.',
    sampleChat: '{{char}}: The sand is warm.',
    description: 'A desert guide.',
    persona: { kind: 'wpp', attributes: { mind: ['calm', 'wise'], body: ['tall'] } },
    alternateGreetings: ['Lost again?'],
    systemPrompt: 'Be terse.',
    postHistoryInstructions: 'Stay in character.',
    creator: 'agnai-user',
    characterVersion: '2',
    tags: ['desert'],
    characterBook: {
      kind: 'memory',
      name: 'Desert',
      description: '',
      entries: [{ name: 'Oasis', entry: 'The oasis lies east.', keywords: ['oasis'], priority: 5, weight: 10, enabled: true }],
    },
    voice: { service: 'webspeechsynthesis' },
  };
}

/** A SillyTavern world-info file: entries as an object keyed by uid, ST's camelCase fields. */
export function worldInfo(count = 3): Json {
  const entries: Json = {};
  for (let uid = 0; uid < count; uid++) {
    entries[String(uid)] = {
      uid,
      key: [`place${uid}`],
      keysecondary: uid % 2 ? [`also${uid}`] : [],
      comment: `Place ${uid}`,
      content: `Place ${uid} is far away.`,
      constant: uid === 0,
      vectorized: false,
      selective: true,
      selectiveLogic: uid % 4,
      addMemo: true,
      order: 100 + uid,
      position: uid % 5,
      disable: uid === 2,
      excludeRecursion: false,
      preventRecursion: uid % 2 === 0,
      delayUntilRecursion: false,
      probability: 100,
      useProbability: true,
      depth: 4,
      group: '',
      groupOverride: false,
      groupWeight: 100,
      scanDepth: null,
      caseSensitive: null,
      matchWholeWords: uid === 1 ? true : null,
      useGroupScoring: null,
      automationId: '',
      role: uid % 3,
      sticky: 0,
      cooldown: 0,
      delay: 0,
      displayIndex: uid,
      triggers: [],
      characterFilter: { isExclude: false, names: [], tags: [] },
      extensions: nestedUnknown(uid),
    };
  }
  return { entries };
}
