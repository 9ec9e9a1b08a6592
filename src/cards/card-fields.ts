import { isDeepStrictEqual } from 'node:util';
import { CHARACTER_LIMITS } from '../characters/character-input.js';
import { UserError } from '../errors.js';
import { isObject, type Json } from '../knowledge/lore-json.js';

/** What a character takes from a card: the card's own fields, under DreamChat's names. */
export interface CardFields {
  name: string;
  /** The card's `description` (the character's personality prompt). */
  description: string;
  personality: string;
  scenario: string;
  greeting: string;
  exampleDialogue: string;
  systemPrompt: string;
  postHistoryInstructions: string;
  creatorNotes: string;
  alternateGreetings: string[];
  tags: string[];
  /** SillyTavern's group-chat talkativeness (`extensions.talkativeness`, 0–1, often a string). */
  talkativeness?: number;
}

type TextField = Exclude<keyof CardFields, 'alternateGreetings' | 'tags' | 'talkativeness'>;

/** Card key (in `data`) of each text field, the V1 key mirrored at the top of ST's cards, and its limit. */
const TEXT: Record<TextField, { key: string; v1?: string; max: number; label: string }> = {
  name: { key: 'name', v1: 'name', max: CHARACTER_LIMITS.name, label: 'name' },
  description: { key: 'description', v1: 'description', max: CHARACTER_LIMITS.description, label: 'description' },
  personality: { key: 'personality', v1: 'personality', max: CHARACTER_LIMITS.personality, label: 'personality' },
  scenario: { key: 'scenario', v1: 'scenario', max: CHARACTER_LIMITS.scenario, label: 'scenario' },
  greeting: { key: 'first_mes', v1: 'first_mes', max: CHARACTER_LIMITS.greeting, label: 'first message' },
  exampleDialogue: { key: 'mes_example', v1: 'mes_example', max: CHARACTER_LIMITS.exampleDialogue, label: 'example dialogue' },
  systemPrompt: { key: 'system_prompt', max: CHARACTER_LIMITS.systemPrompt, label: 'system prompt' },
  postHistoryInstructions: {
    key: 'post_history_instructions',
    max: CHARACTER_LIMITS.postHistoryInstructions,
    label: 'post-history instructions',
  },
  creatorNotes: { key: 'creator_notes', v1: 'creatorcomment', max: CHARACTER_LIMITS.creatorNotes, label: 'creator notes' },
};

export function dataOf(card: Json): Json {
  return isObject(card.data) ? card.data : {};
}

/**
 * The card's fields as the character will hold them, read as leniently as SillyTavern does (a null is empty text, a
 * number is its text, tags may be one comma-separated string), plus what did not fit (listed in the import reply).
 * Text longer than the character's limit is refused, naming the field: it is never cut.
 */
export function readCardFields(card: Json): { fields: CardFields; dropped: string[] } {
  const data = dataOf(card);
  const dropped: string[] = [];
  const text = (field: TextField): string => {
    const { key, max, label } = TEXT[field];
    const value = data[key];
    const read = value === null || value === undefined ? '' : typeof value === 'object' ? undefined : String(value);
    if (read === undefined) throw new UserError(`That card is not valid: data.${key} should be text.`);
    if (read.length > max)
      throw new UserError(`The card's ${label} is ${read.length} characters long; the most a character holds is ${max}.`);
    return read;
  };
  const name = text('name')
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  if (!name) throw new UserError('The card has no name.');

  const greetings = listOf(data.alternate_greetings);
  const fitting = greetings.filter((greeting) => greeting.length <= CHARACTER_LIMITS.greeting);
  if (fitting.length < greetings.length)
    dropped.push(`${greetings.length - fitting.length} alternate greetings longer than ${CHARACTER_LIMITS.greeting} characters`);
  if (fitting.length > CHARACTER_LIMITS.alternateGreetings)
    dropped.push(
      `${fitting.length - CHARACTER_LIMITS.alternateGreetings} alternate greetings beyond the first ${CHARACTER_LIMITS.alternateGreetings}`,
    );

  const tags = (typeof data.tags === 'string' ? data.tags.split(',') : listOf(data.tags)).map((tag) => tag.trim()).filter(Boolean);
  const shortTags = tags.filter((tag) => tag.length <= CHARACTER_LIMITS.tagLength);
  if (shortTags.length < tags.length)
    dropped.push(`${tags.length - shortTags.length} tags longer than ${CHARACTER_LIMITS.tagLength} characters`);
  if (shortTags.length > CHARACTER_LIMITS.tags)
    dropped.push(`${shortTags.length - CHARACTER_LIMITS.tags} tags beyond the first ${CHARACTER_LIMITS.tags}`);

  const fields: CardFields = {
    name,
    description: text('description'),
    personality: text('personality'),
    scenario: text('scenario'),
    greeting: text('greeting'),
    exampleDialogue: text('exampleDialogue'),
    systemPrompt: text('systemPrompt'),
    postHistoryInstructions: text('postHistoryInstructions'),
    creatorNotes: text('creatorNotes'),
    alternateGreetings: fitting.slice(0, CHARACTER_LIMITS.alternateGreetings),
    tags: shortTags.slice(0, CHARACTER_LIMITS.tags),
  };
  const talkativeness = talkativenessOf(isObject(data.extensions) ? data.extensions.talkativeness : undefined);
  if (talkativeness !== undefined) fields.talkativeness = talkativeness;
  return { fields, dropped };
}

/** The strings of a list (ST also takes one string as a list of one). */
function listOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** A talkativeness ST would accept: 0–1, as a number or numeric text. */
function talkativenessOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
}

/**
 * The card with the character's current values written over it: only fields whose value differs from what the card
 * itself reads as are written (in `data`, and in the V1 copies at the top when the card has them), so every other
 * key stays exactly as it came. `extensions` is merged, never replaced.
 */
export function writeCardFields(card: Json, fields: CardFields): Json {
  const out = structuredClone(card);
  const data: Json = isObject(out.data) ? out.data : (out.data = {});
  let before: Partial<CardFields> = {};
  try {
    before = readCardFields(card).fields;
  } catch {
    // A stored card the reader now refuses: every field is written.
  }
  for (const [field, { key, v1 }] of Object.entries(TEXT) as [TextField, (typeof TEXT)[TextField]][]) {
    if (fields[field] === before[field]) continue;
    data[key] = fields[field];
    if (v1 && v1 in out) out[v1] = fields[field];
  }
  if (!isDeepStrictEqual(fields.alternateGreetings, before.alternateGreetings)) data.alternate_greetings = [...fields.alternateGreetings];
  if (!isDeepStrictEqual(fields.tags, before.tags)) {
    data.tags = [...fields.tags];
    if ('tags' in out) out.tags = [...fields.tags];
  }
  if (fields.talkativeness !== undefined && fields.talkativeness !== before.talkativeness) {
    if (!isObject(data.extensions)) data.extensions = {};
    (data.extensions as Json).talkativeness = String(fields.talkativeness);
    if ('talkativeness' in out) out.talkativeness = String(fields.talkativeness);
  }
  return out;
}
