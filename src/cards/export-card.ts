import { deflateSync } from 'node:zlib';
import encodeChunks from 'png-chunks-encode';
import extractChunks from 'png-chunks-extract';
import { encode as encodeText } from 'png-chunk-text';
import { isObject, loreToJson, type Json } from '../knowledge/lore-json.js';
import type { LoreEntry } from '../knowledge/types.js';
import { dataOf, writeCardFields, type CardFields } from './card-fields.js';

/** What an export is made of: the stored card (null for a character made here), the character's values, its lore. */
export interface CardSource {
  card: Json | null;
  fields: CardFields;
  /** Written as `creator` only on a card made here; an imported card keeps its own. */
  creator: string;
  lorebook: LoreEntry[];
}

const V2_TEXT = [
  'name',
  'description',
  'personality',
  'scenario',
  'first_mes',
  'mes_example',
  'creator_notes',
  'system_prompt',
  'post_history_instructions',
  'creator',
  'character_version',
];

/**
 * The card to export: the stored card with the character's current values written over it (only what changed;
 * `extensions` merged), and the lorebook rebuilt from the book's own stored fields and each lore entry's original
 * JSON with its current values. Fields the V2 spec requires are added when the card came without them; `creator`
 * and `character_version` are never overwritten. Embedded assets (CHARX files, PNG asset chunks) are not kept, so
 * references to them are left out.
 */
export function exportCardJson(source: CardSource): Json {
  const base: Json = source.card
    ? structuredClone(source.card)
    : { spec: 'chara_card_v2', spec_version: '2.0', data: { creator: source.creator, extensions: {} } };
  const card = writeCardFields(base, source.fields);
  const data = dataOf(card);
  for (const key of V2_TEXT) if (!Object.hasOwn(data, key)) data[key] = '';
  if (!Array.isArray(data.alternate_greetings)) data.alternate_greetings = [...source.fields.alternateGreetings];
  if (!Array.isArray(data.tags)) data.tags = [...source.fields.tags];
  if (!isObject(data.extensions)) data.extensions = {};
  const storedBook = isObject(data.character_book) ? data.character_book : undefined;
  if (storedBook || source.lorebook.length) {
    const book: Json = { ...(storedBook ?? {}), entries: source.lorebook.map((entry, i) => loreToJson(entry, 'card', i)) };
    if (!isObject(book.extensions)) book.extensions = {};
    data.character_book = book;
  } else {
    delete data.character_book;
  }
  if (Array.isArray(data.assets)) {
    data.assets = data.assets.filter((asset) => !isObject(asset) || !/^(embeded|embedded):\/\/|^__asset:/.test(String(asset.uri ?? '')));
  }
  return card;
}

/** The card as Character Card V2 (the `chara` chunk) or V3 (`ccv3`, with V3's required group_only_greetings). */
export function cardAs(card: Json, spec: 'v2' | 'v3'): Json {
  const out = structuredClone(card);
  if (spec === 'v2') return Object.assign(out, { spec: 'chara_card_v2', spec_version: '2.0' });
  const data = dataOf(out);
  if (!Array.isArray(data.group_only_greetings)) data.group_only_greetings = [];
  return Object.assign(out, { spec: 'chara_card_v3', spec_version: '3.0' });
}

/**
 * A PNG card as SillyTavern writes one (character-card-parser.js `write`): the avatar PNG (or a plain placeholder)
 * with its earlier `chara`/`ccv3` chunks removed and the card added before IEND as base64 JSON, V2 in `chara` and
 * V3 in `ccv3`.
 */
export function exportCardPng(card: Json, avatarPng?: Buffer): Buffer {
  const base = avatarPng ?? placeholderPng();
  const chunks = extractChunks(new Uint8Array(base)).filter((chunk) => {
    if (chunk.name !== 'tEXt') return true;
    const keyword = Buffer.from(chunk.data).toString('latin1').split('\0')[0]!.toLowerCase();
    return keyword !== 'chara' && keyword !== 'ccv3';
  });
  const base64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
  chunks.splice(chunks.length - 1, 0, encodeText('chara', base64(cardAs(card, 'v2'))), encodeText('ccv3', base64(cardAs(card, 'v3'))));
  return Buffer.from(encodeChunks(chunks));
}

/** A 256×256 PNG in one colour, for characters without an avatar. */
export function placeholderPng(size = 256, rgb: [number, number, number] = [88, 101, 242]): Buffer {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, size);
  view.setUint32(4, size);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const row = Buffer.alloc(1 + size * 3);
  for (let x = 0; x < size; x++) row.set(rgb, 1 + x * 3);
  const pixels = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.from(
    encodeChunks([
      { name: 'IHDR', data: header },
      { name: 'IDAT', data: new Uint8Array(deflateSync(pixels)) },
      { name: 'IEND', data: new Uint8Array(0) },
    ]),
  );
}
