import { UserError } from '../errors.js';
import { isObject, type Json } from '../knowledge/lore-json.js';

export type CardFormat = 'v1' | 'v2' | 'v3' | 'pygmalion' | 'agnai';

/**
 * Any card JSON as a Character Card V2/V3 object, every key it came with kept. A V2/V3 card is taken as it is.
 * Older shapes keep their own keys at the top, beside the `spec`/`data` made from them, as SillyTavern's
 * `charaFormatData` does for V1 cards (src/endpoints/characters.js): V1 (`convertToV2`), Pygmalion/Gradio
 * (`char_name`, `char_persona`, … as ST's JSON import maps them) and Agnai's own export (web/pages/Character/port.ts
 * in agnaistic/agnai: `kind: 'character'`, or name + persona + greeting + scenario + sampleChat).
 */
export function toCardJson(raw: unknown): { format: CardFormat; card: Json } {
  if (!isObject(raw)) throw new UserError('That is not a character card.');
  const spec = raw.spec;
  if (spec === 'chara_card_v2' || spec === 'chara_card_v3') {
    if (!isObject(raw.data)) throw new UserError('That card is not valid: it has no data.');
    return { format: spec === 'chara_card_v2' ? 'v2' : 'v3', card: raw };
  }
  if (spec !== undefined && spec !== null) {
    throw new UserError(
      `Unknown card format “${String(spec).slice(0, 40)}”: DreamChat reads Character Card V1, V2 and V3, Pygmalion and Agnai cards.`,
    );
  }
  if (raw.kind === 'character' || ['name', 'persona', 'greeting', 'scenario', 'sampleChat'].every((key) => key in raw)) {
    return { format: 'agnai', card: fromAgnai(raw) };
  }
  if ('char_name' in raw) {
    return {
      format: 'pygmalion',
      card: v2Of(raw, {
        name: raw.char_name,
        description: raw.char_persona,
        scenario: raw.world_scenario,
        first_mes: raw.char_greeting,
        mes_example: raw.example_dialogue,
      }),
    };
  }
  if ('name' in raw) return { format: 'v1', card: v2Of(raw, {}) };
  throw new UserError('That is not a character card: it has no name and no spec.');
}

/** A V1-style object with `spec`/`data` made from it (ST's charaFormatData), the object's own keys kept at the top. */
function v2Of(raw: Json, mapped: Json): Json {
  const pick = (key: string) => mapped[key] ?? raw[key] ?? '';
  const extensions: Json = {};
  if (raw.talkativeness !== undefined) extensions.talkativeness = raw.talkativeness;
  if (raw.fav !== undefined) extensions.fav = raw.fav;
  if (raw.depth_prompt_prompt !== undefined)
    extensions.depth_prompt = { prompt: raw.depth_prompt_prompt, depth: raw.depth_prompt_depth ?? 4 };
  const data: Json = {
    name: pick('name'),
    description: pick('description'),
    personality: pick('personality'),
    scenario: pick('scenario'),
    first_mes: pick('first_mes'),
    mes_example: pick('mes_example'),
    creator_notes: raw.creatorcomment ?? raw.creator_notes ?? '',
    system_prompt: raw.system_prompt ?? '',
    post_history_instructions: raw.post_history_instructions ?? '',
    alternate_greetings: raw.alternate_greetings ?? [],
    tags: raw.tags ?? [],
    creator: raw.creator ?? '',
    character_version: raw.character_version ?? '',
    extensions,
  };
  if (isObject(raw.character_book)) data.character_book = raw.character_book;
  return { ...raw, spec: 'chara_card_v2', spec_version: '2.0', data };
}

interface AgnaiPersona {
  kind?: string;
  attributes?: Record<string, unknown>;
}

/** Agnai's own character export as a V2 card; its persona is kept in `extensions.agnai.persona`, as Agnai's own V2 export does. */
function fromAgnai(raw: Json): Json {
  const name = typeof raw.name === 'string' ? raw.name : '';
  const persona = isObject(raw.persona) ? (raw.persona as AgnaiPersona) : undefined;
  const extensions: Json = isObject(raw.extensions) ? structuredClone(raw.extensions) : {};
  if (persona) extensions.agnai = { ...(isObject(extensions.agnai) ? extensions.agnai : {}), persona };
  const data: Json = {
    name,
    description: persona ? formatAgnaiPersona(name, persona) : '',
    personality: '',
    scenario: raw.scenario ?? '',
    first_mes: raw.greeting ?? '',
    mes_example: raw.sampleChat ?? '',
    creator_notes: raw.description ?? '',
    system_prompt: raw.systemPrompt ?? '',
    post_history_instructions: raw.postHistoryInstructions ?? '',
    alternate_greetings: raw.alternateGreetings ?? [],
    tags: raw.tags ?? [],
    creator: raw.creator ?? '',
    character_version: raw.characterVersion ?? '',
    extensions,
  };
  const book = isObject(raw.characterBook) ? raw.characterBook : undefined;
  if (book && Array.isArray(book.entries)) {
    // Agnai's memory book: { name, entry, keywords, priority, weight, enabled } per entry.
    data.character_book = {
      name: book.name ?? '',
      description: book.description ?? '',
      extensions: {},
      entries: book.entries.filter(isObject).map((entry, i) => ({
        id: i,
        keys: Array.isArray(entry.keywords) ? entry.keywords : [],
        content: entry.entry ?? '',
        name: entry.name ?? '',
        comment: entry.name ?? '',
        priority: entry.priority ?? 0,
        insertion_order: entry.weight ?? 0,
        enabled: entry.enabled !== false,
        extensions: {},
      })),
    };
  }
  return { ...raw, spec: 'chara_card_v2', spec_version: '2.0', data };
}

/** Agnai's formatCharacter: plain text, W++, Square Bracket Format or Boostyle. */
function formatAgnaiPersona(name: string, persona: AgnaiPersona): string {
  const attributes = Object.entries(persona.attributes ?? {}).map(
    ([key, values]) => [key, (Array.isArray(values) ? values : [values]).map(String)] as const,
  );
  const quote = (value: string) => `"${value}"`;
  switch (persona.kind) {
    case 'wpp':
      return [
        `[character("${name}") {`,
        attributes.map(([key, values]) => `${key}(${values.map(quote).join(' + ')})`).join('\n'),
        '}]',
      ].join('\n');
    case 'sbf':
      return `[ character: "${name}"; ${attributes.map(([key, values]) => `${key}: ${values.map(quote).join(', ')}`).join('; ')} ]`;
    case 'boostyle':
      return [name, ...attributes.flatMap(([, values]) => values)].join(' + ');
    default:
      return attributes.find(([key]) => key === 'text')?.[1][0] ?? '';
  }
}
