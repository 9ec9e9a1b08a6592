import { deflateSync } from 'node:zlib';
import encodeChunks from 'png-chunks-encode';
import extractChunks from 'png-chunks-extract';
import { encode as encodeText } from 'png-chunk-text';
import type { LoreEntry } from '../knowledge/types.js';

export interface CardExportInput {
  name: string;
  description: string;
  personality?: string;
  scenario?: string | null;
  greeting?: string | null;
  exampleDialogue?: string | null;
  systemPrompt?: string | null;
  postHistoryInstructions?: string | null;
  alternateGreetings?: string[];
  tags?: string[];
  creatorNotes?: string | null;
  creator?: string;
  talkativeness?: number;
  lorebook?: LoreEntry[];
}

/** The Character Card V2 JSON SillyTavern and others import. */
export function exportCardJson(card: CardExportInput): Record<string, unknown> {
  return {
    spec: 'chara_card_v2',
    spec_version: '2.0',
    data: {
      name: card.name,
      description: card.description,
      personality: card.personality ?? '',
      scenario: card.scenario ?? '',
      first_mes: card.greeting ?? '',
      mes_example: card.exampleDialogue ?? '',
      creator_notes: card.creatorNotes ?? '',
      system_prompt: card.systemPrompt ?? '',
      post_history_instructions: card.postHistoryInstructions ?? '',
      alternate_greetings: card.alternateGreetings ?? [],
      tags: card.tags ?? [],
      creator: card.creator ?? '',
      character_version: '',
      extensions: card.talkativeness === undefined ? {} : { talkativeness: String(card.talkativeness) },
      ...(card.lorebook?.length
        ? {
            character_book: {
              entries: card.lorebook.map((entry, i) => ({
                keys: entry.keys,
                secondary_keys: entry.secondaryKeys ?? [],
                content: entry.content,
                extensions: {},
                enabled: entry.enabled ?? true,
                insertion_order: i,
                case_sensitive: entry.caseSensitive ?? false,
                name: entry.name ?? '',
                priority: entry.priority ?? 0,
                id: i,
                comment: entry.name ?? '',
                selective: entry.selective ?? false,
                constant: entry.constant ?? false,
                position: 'before_char',
              })),
            },
          }
        : {}),
    },
  };
}

/**
 * A V2 PNG card: the avatar PNG (or a plain placeholder) with the card as
 * base64 JSON in a `chara` tEXt chunk, plus a `ccv3` chunk as SillyTavern
 * writes, both before IEND; earlier card chunks are replaced.
 */
export function exportCardPng(card: CardExportInput, avatarPng?: Buffer): Buffer {
  const base = avatarPng ?? placeholderPng();
  const chunks = extractChunks(new Uint8Array(base)).filter((chunk) => {
    if (chunk.name !== 'tEXt') return true;
    const keyword = Buffer.from(chunk.data).toString('latin1').split('\0')[0]!.toLowerCase();
    return keyword !== 'chara' && keyword !== 'ccv3';
  });
  const v2 = exportCardJson(card);
  const v3 = { ...v2, spec: 'chara_card_v3', spec_version: '3.0' };
  const base64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
  chunks.splice(chunks.length - 1, 0, encodeText('chara', base64(v2)), encodeText('ccv3', base64(v3)));
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
