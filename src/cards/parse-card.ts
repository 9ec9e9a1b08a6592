import extractChunks from 'png-chunks-extract';
import { decode as decodeText } from 'png-chunk-text';
import { UserError } from '../errors.js';
import { entriesOfBook, isObject, loreFromJson, type Json } from '../knowledge/lore-json.js';
import type { LoreEntry } from '../knowledge/types.js';
import { readCardFields, type CardFields } from './card-fields.js';
import { toCardJson, type CardFormat } from './card-formats.js';
import { CARD_LIMITS } from './card-limits.js';
import { isZip, readCharx } from './charx.js';

export interface ParsedCard {
  format: CardFormat;
  container: 'json' | 'png' | 'charx';
  /** What the character stores: the card as it came, the lorebook's `entries` emptied (they become lore items). */
  card: Json;
  fields: CardFields;
  /** Every lorebook entry, disabled and empty ones too, each with its JSON as `original`. */
  lorebook: LoreEntry[];
  /** The picture the card came with (the PNG card itself, or a CHARX's main icon). */
  avatar?: Buffer;
  /** What was not kept, in plain words, for the import reply. */
  notes: string[];
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function isPng(buffer: Buffer): boolean {
  return buffer.subarray(0, 8).equals(PNG_SIGNATURE);
}

/**
 * Reads a character card as SillyTavern would: Character Card V1/V2/V3, Pygmalion or Agnai JSON, a PNG with the card
 * in a `ccv3` or `chara` tEXt chunk (the first `ccv3`, else the first `chara`, as ST's character-card-parser.js
 * `read`), or a CHARX zip. Anything malformed, truncated or oversized is a UserError in plain words.
 */
export async function parseCard(buffer: Buffer): Promise<ParsedCard> {
  if (buffer.length > CARD_LIMITS.fileBytes) throw new UserError(`That card is larger than ${CARD_LIMITS.fileBytes / 1024 / 1024} MB.`);
  if (isZip(buffer)) return parseCharx(buffer);
  const png = isPng(buffer);
  const raw = parseJson(
    png ? cardJsonFromPng(buffer) : buffer.toString('utf8'),
    png ? 'The card inside this PNG is not valid JSON.' : 'That file is neither a PNG card nor valid JSON.',
  );
  return { ...fromJson(raw, png ? 'png' : 'json'), ...(png ? { avatar: buffer } : {}) };
}

/** Card JSON (already parsed) as a ParsedCard, for callers that hold JSON. */
function fromJson(raw: unknown, container: ParsedCard['container']): ParsedCard {
  const { format, card } = toCardJson(raw);
  const { fields, dropped } = readCardFields(card);
  const data = card.data as Json;
  const book = isObject(data.character_book) ? data.character_book : undefined;
  const entries = book ? (entriesOfBook(book) ?? []) : [];
  if (entries.length > CARD_LIMITS.loreEntries)
    throw new UserError(`The card's lorebook has ${entries.length} entries; the most kept is ${CARD_LIMITS.loreEntries}.`);
  const lorebook = entries.map((entry) => loreFromJson(entry, 'card'));
  const longest = Math.max(0, ...lorebook.map((entry) => entry.content.length));
  if (longest > CARD_LIMITS.loreEntryChars)
    throw new UserError(`A lorebook entry of this card is ${longest} characters long; the most kept is ${CARD_LIMITS.loreEntryChars}.`);
  if (lorebook.reduce((sum, entry) => sum + entry.content.length, 0) > CARD_LIMITS.loreTotal)
    throw new UserError('The card’s lorebook is too large.');
  const stored = structuredClone(card);
  if (book) (stored.data as Json).character_book = { ...book, entries: [] };
  const notes = dropped.map((what) => `${what} were left out`);
  const assets = Array.isArray(data.assets) ? data.assets.filter(isObject) : [];
  const extra = assets.filter((asset) => !(asset.type === 'icon' && asset.name === 'main'));
  if (extra.length)
    notes.push(
      `the card's ${extra.length} extra asset${extra.length === 1 ? '' : 's'} (${describeAssets(extra)}) were not kept: DreamChat keeps only the main picture`,
    );
  return { format, container, card: stored, fields, lorebook, notes };
}

function describeAssets(assets: Json[]): string {
  const kinds = [...new Set(assets.map((asset) => String(asset.type ?? 'other')))];
  return kinds.slice(0, 5).join(', ');
}

function parseJson(text: string, invalid: string): unknown {
  try {
    // A "__proto__" key would become the prototype of whatever the card is later spread into.
    return JSON.parse(text.replace(/^\uFEFF/, ''), (key, value: unknown) => (key === '__proto__' ? undefined : value));
  } catch {
    throw new UserError(invalid);
  }
}

function cardJsonFromPng(buffer: Buffer): string {
  assertChunksFit(buffer);
  let chunks: { name: string; data: Uint8Array }[];
  try {
    chunks = extractChunks(new Uint8Array(buffer));
  } catch (error) {
    throw new UserError(`That PNG is damaged or cut short (${(error as Error).message}).`);
  }
  const texts = chunks.filter((chunk) => chunk.name === 'tEXt').map((chunk) => decodeText(chunk.data));
  const found = texts.find((text) => text.keyword.toLowerCase() === 'ccv3') ?? texts.find((text) => text.keyword.toLowerCase() === 'chara');
  if (!found) throw new UserError('This PNG has no character card inside. Export it from SillyTavern or chub.ai as a PNG card.');
  const clean = found.text.trim();
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

/** A CHARX: `card.json` at the root; the main icon (an `embeded://` asset, as the V3 spec spells it) becomes the avatar. */
async function parseCharx(buffer: Buffer): Promise<ParsedCard> {
  const files = await readCharx(buffer, (path) => path === 'card.json' || path.startsWith('assets/'), CARD_LIMITS.fileBytes * 2);
  const json = files.get('card.json');
  if (!json) throw new UserError('That CHARX file has no card.json inside.');
  const parsed = fromJson(parseJson(json.toString('utf8'), 'The card.json inside this CHARX file is not valid JSON.'), 'charx');
  const assets = Array.isArray(dataAssets(parsed.card)) ? dataAssets(parsed.card).filter(isObject) : [];
  const icon = assets.find((asset) => asset.type === 'icon' && asset.name === 'main') ?? assets.find((asset) => asset.type === 'icon');
  const uri = typeof icon?.uri === 'string' ? icon.uri : '';
  const avatar = uri.startsWith('embeded://') ? files.get(uri.slice('embeded://'.length)) : undefined;
  return { ...parsed, ...(avatar ? { avatar } : {}) };
}

function dataAssets(card: Json): unknown[] {
  const data = card.data as Json;
  return Array.isArray(data.assets) ? data.assets : [];
}
