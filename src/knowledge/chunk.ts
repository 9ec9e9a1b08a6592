import { countTokens } from '../chat/tokens.js';
import type { Chunk, Extracted } from './types.js';

export interface ChunkOptions {
  /** Largest chunk, in tokens (default 384). */
  maxTokens: number;
  /** Tokens of the previous chunk repeated at the start of the next (default 48). */
  overlapTokens: number;
}

export const DEFAULT_CHUNKING: ChunkOptions = { maxTokens: 384, overlapTokens: 48 };

interface Piece {
  start: number;
  end: number;
  tokens: number;
  heading?: string;
  /** A heading starts a new chunk. */
  breakBefore: boolean;
}

/**
 * Token-aware chunks of an extracted document: split on Markdown headings,
 * then paragraphs, then sentences, then words, and characters only as a last
 * resort; packed up to `maxTokens` with some overlap. Every chunk is a slice
 * of the extracted text (`start`/`end` offsets), never empty, and keeps the
 * page and heading it came from.
 */
export function chunkDocument(extracted: Extracted, options: ChunkOptions = DEFAULT_CHUNKING): Chunk[] {
  const parts = extracted.sections?.length ? sectionsWithOffsets(extracted) : [{ start: 0, end: extracted.text.length }];
  const chunks: Chunk[] = [];
  for (const part of parts) {
    const pieces = splitPieces(extracted.text, part.start, part.end, options.maxTokens);
    for (const chunk of pack(extracted.text, pieces, options)) {
      chunks.push({ ...chunk, index: chunks.length, page: part.page });
    }
  }
  return chunks;
}

function sectionsWithOffsets(extracted: Extracted): { start: number; end: number; page?: number }[] {
  const found: { start: number; end: number; page?: number }[] = [];
  let from = 0;
  for (const section of extracted.sections ?? []) {
    const start = extracted.text.indexOf(section.text, from);
    if (start < 0) continue;
    found.push({ start, end: start + section.text.length, page: section.page });
    from = start + section.text.length;
  }
  return found.length ? found : [{ start: 0, end: extracted.text.length }];
}

/** Splits [start, end) into pieces no bigger than maxTokens, at the coarsest boundary that works. */
function splitPieces(text: string, start: number, end: number, maxTokens: number): Piece[] {
  const pieces: Piece[] = [];
  let heading: string | undefined;
  for (const block of spans(text, start, end, /\n[ \t]*\n+/g)) {
    const content = text.slice(block.start, block.end);
    const title = /^#{1,6}\s+(.+)$/m.exec(content.split('\n')[0] ?? '');
    if (title) heading = title[1]!.trim();
    refine(text, block, maxTokens, 0, (piece, first) => pieces.push({ ...piece, heading, breakBefore: Boolean(title) && first }));
  }
  return pieces;
}

const LEVELS = [/(?<=[.!?…]["')\]]?)\s+/g, /\s+/g];

function refine(
  text: string,
  span: { start: number; end: number },
  maxTokens: number,
  level: number,
  emit: (piece: { start: number; end: number; tokens: number }, first: boolean) => void,
  first = true,
): void {
  const tokens = countTokens(text.slice(span.start, span.end));
  if (tokens <= maxTokens) {
    emit({ ...span, tokens }, first);
    return;
  }
  const pattern = LEVELS[level];
  if (!pattern) {
    // A single "word" longer than a chunk: cut it by characters.
    const step = Math.max(1, Math.floor(((span.end - span.start) * maxTokens) / tokens));
    for (let at = span.start; at < span.end; at += step) {
      const end = Math.min(span.end, at + step);
      emit({ start: at, end, tokens: countTokens(text.slice(at, end)) }, first && at === span.start);
    }
    return;
  }
  spans(text, span.start, span.end, pattern).forEach((part, i) => refine(text, part, maxTokens, level + 1, emit, first && i === 0));
}

/** The non-empty spans of [start, end) between matches of `separator`, whitespace-trimmed. */
function spans(text: string, start: number, end: number, separator: RegExp): { start: number; end: number }[] {
  const result: { start: number; end: number }[] = [];
  const slice = text.slice(start, end);
  let from = 0;
  const push = (a: number, b: number) => {
    const raw = slice.slice(a, b);
    const lead = raw.length - raw.trimStart().length;
    const trail = raw.length - raw.trimEnd().length;
    if (raw.trim()) result.push({ start: start + a + lead, end: start + b - trail });
  };
  for (const match of slice.matchAll(
    new RegExp(separator.source, separator.flags.includes('g') ? separator.flags : `${separator.flags}g`),
  )) {
    push(from, match.index);
    from = match.index + match[0].length;
  }
  push(from, slice.length);
  return result;
}

function pack(text: string, pieces: Piece[], options: ChunkOptions): Omit<Chunk, 'index' | 'page'>[] {
  const chunks: Omit<Chunk, 'index' | 'page'>[] = [];
  let current: Piece[] = [];
  let tokens = 0;
  const flush = () => {
    if (!current.length) return;
    const start = current[0]!.start;
    const end = current.at(-1)!.end;
    chunks.push({
      text: text.slice(start, end),
      tokenCount: countTokens(text.slice(start, end)),
      start,
      end,
      heading: current[0]!.heading,
    });
  };
  for (const piece of pieces) {
    // Each join between pieces may cost a token of whitespace: count one per piece.
    if (current.length && (piece.breakBefore || tokens + piece.tokens + current.length > options.maxTokens)) {
      flush();
      // Carry the tail of this chunk into the next, unless a heading starts a new part.
      const carried: Piece[] = [];
      let carriedTokens = 0;
      if (!piece.breakBefore) {
        for (let i = current.length - 1; i > 0; i--) {
          const candidate = current[i]!;
          if (carriedTokens + candidate.tokens > options.overlapTokens) break;
          carried.unshift(candidate);
          carriedTokens += candidate.tokens;
        }
      }
      if (carriedTokens + piece.tokens + carried.length + 1 > options.maxTokens) {
        carried.length = 0;
        carriedTokens = 0;
      }
      current = carried;
      tokens = carriedTokens;
    }
    current.push(piece);
    tokens += piece.tokens;
  }
  flush();
  return chunks;
}
