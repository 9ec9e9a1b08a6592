import extractChunks from 'png-chunks-extract';
import { decode as decodeText } from 'png-chunk-text';
import { z } from 'zod';
import { UserError } from '../errors.js';
import type { LoreEntry } from '../knowledge/types.js';
import { CARD_LIMITS, cardSchema, legacyCardSchema, type CardData } from './card-schema.js';

export interface ParsedCard {
  spec: 'v1' | 'v2' | 'v3';
  name: string;
  description: string;
  personality: string;
  scenario: string;
  greeting: string;
  exampleDialogue: string;
  systemPrompt: string;
  postHistoryInstructions: string;
  alternateGreetings: string[];
  tags: string[];
  creatorNotes: string;
  creator: string;
  characterVersion: string;
  lorebook: LoreEntry[];
  /** How often the character speaks up unprompted in scenes (SillyTavern's group-chat talkativeness). */
  talkativeness?: number;
  /** The PNG the card came in: it becomes the avatar. */
  avatarPng?: Buffer;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Reads a community character card: Character Card V2 or V3, as JSON or
 * inside a PNG (`ccv3` preferred over `chara`, base64 JSON in a tEXt chunk);
 * V1 JSON is tolerated. Anything malformed, truncated or oversized is a
 * UserError in plain words, and nothing else happens.
 */
export function parseCard(buffer: Buffer): ParsedCard {
  if (buffer.length > CARD_LIMITS.fileBytes) throw new UserError(`That card is larger than ${CARD_LIMITS.fileBytes / 1024 / 1024} MB.`);
  const isPng = buffer.subarray(0, 8).equals(PNG_SIGNATURE);
  const json = isPng ? cardJsonFromPng(buffer) : buffer.toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(json.replace(/^\uFEFF/, ''));
  } catch {
    throw new UserError(isPng ? 'The card inside this PNG is not valid JSON.' : 'That file is neither a PNG card nor valid JSON.');
  }
  const card = toCard(raw);
  return { ...card, avatarPng: isPng ? buffer : undefined };
}

function cardJsonFromPng(buffer: Buffer): string {
  assertChunksFit(buffer);
  let chunks: { name: string; data: Uint8Array }[];
  try {
    chunks = extractChunks(new Uint8Array(buffer));
  } catch (error) {
    throw new UserError(`That PNG is damaged or cut short (${(error as Error).message}).`);
  }
  const texts = new Map<string, string>();
  for (const chunk of chunks.filter((c) => c.name === 'tEXt')) {
    const { keyword, text } = decodeText(chunk.data);
    texts.set(keyword.toLowerCase(), text);
  }
  const encoded = texts.get('ccv3') ?? texts.get('chara');
  if (!encoded) throw new UserError('This PNG has no character card inside. Export it from SillyTavern or chub.ai as a PNG card.');
  const clean = encoded.trim();
  if (!/^[A-Za-z0-9+/=\s]+$/.test(clean)) throw new UserError('The card inside this PNG is not valid base64.');
  return Buffer.from(clean, 'base64').toString('utf8');
}

/** Declared chunk lengths must fit in the file, so a hostile length cannot make the parser allocate gigabytes. */
function assertChunksFit(buffer: Buffer): void {
  for (let at = 8; at + 8 <= buffer.length; ) {
    const length = buffer.readUInt32BE(at);
    if (at + 12 + length > buffer.length) throw new UserError('That PNG is damaged or cut short.');
    if (buffer.toString('latin1', at + 4, at + 8) === 'IEND') return;
    at += 12 + length;
  }
}

function toCard(raw: unknown): Omit<ParsedCard, 'avatarPng'> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError('That is not a character card.');
  const spec = (raw as { spec?: unknown }).spec;
  let data: CardData;
  let version: ParsedCard['spec'];
  if (spec === undefined) {
    data = parse(legacyCardSchema, raw) as CardData;
    version = 'v1';
  } else if (spec === 'chara_card_v2' || spec === 'chara_card_v3') {
    data = parse(cardSchema, raw).data;
    version = spec === 'chara_card_v2' ? 'v2' : 'v3';
  } else {
    throw new UserError(`Unknown card format “${String(spec).slice(0, 40)}”: DreamChat reads Character Card V2 and V3.`);
  }
  const name = data.name.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (!name) throw new UserError('The card has no name.');
  if (name.length > CARD_LIMITS.nameLength) throw new UserError(`The card's name is longer than ${CARD_LIMITS.nameLength} characters.`);
  const entries = data.character_book?.entries ?? [];
  const loreSize = entries.reduce((sum, entry) => sum + entry.content.length, 0);
  if (loreSize > CARD_LIMITS.loreTotal) throw new UserError('The card’s lorebook is too large.');
  return {
    spec: version,
    name,
    description: data.description ?? '',
    personality: data.personality ?? '',
    scenario: data.scenario ?? '',
    greeting: data.first_mes ?? '',
    exampleDialogue: data.mes_example ?? '',
    systemPrompt: data.system_prompt ?? '',
    postHistoryInstructions: data.post_history_instructions ?? '',
    alternateGreetings: data.alternate_greetings ?? [],
    tags: data.tags ?? [],
    creatorNotes: data.creator_notes ?? '',
    creator: data.creator ?? '',
    characterVersion: data.character_version ?? '',
    talkativeness: data.extensions?.talkativeness,
    lorebook: entries
      .filter((entry) => entry.content.trim())
      .map((entry) => ({
        keys: entry.keys,
        secondaryKeys: entry.secondary_keys,
        content: entry.content,
        name: entry.name || entry.comment || undefined,
        constant: entry.constant ?? false,
        selective: entry.selective ?? false,
        caseSensitive: entry.case_sensitive ?? false,
        useRegex: entry.use_regex ?? false,
        priority: entry.priority ?? 0,
        enabled: entry.enabled,
      })),
  };
}

function parse<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new UserError(`That card is not valid: ${describeIssue(result.error.issues[0]!)}.`);
}

/** One schema problem in plain words: "it has no data.name", "data.tags should be a list". */
function describeIssue(issue: { code: string; path: PropertyKey[]; message: string; expected?: unknown }): string {
  const field = issue.path.map(String).join('.') || 'the card';
  if (issue.code === 'invalid_type') {
    if (/received undefined/.test(issue.message)) return `it has no ${field}`;
    const expected = { string: 'text', number: 'a number', boolean: 'true or false', array: 'a list', object: 'an object' }[String(issue.expected)];
    return `${field} should be ${expected ?? String(issue.expected)}`;
  }
  return `${field} ${issue.message}`;
}
