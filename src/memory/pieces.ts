import type { EntityManager } from '@mikro-orm/postgresql';
import pgvector from 'pgvector';

/**
 * A conversation memory's pieces: its sentences, each embedded on its own (table memory_pieces). An exchange's one
 * vector averages every line of it, so a fact said in one sentence of a long exchange ranked 68th to 174th by
 * meaning for a question asked in other words (bench/memory); its own sentence ranks it near the top.
 */

/** A sentence shorter than this (in words) joins the one before it ("Well now." says nothing alone). */
const MIN_WORDS = 4;
/** At most this many pieces per memory (an exchange is at most 9 messages of 1,500 characters). */
const MAX_PIECES = 32;
/** "Nell: " at the start of a line of a memory. */
const SPEAKER = /^[^:\n]{1,80}:\s+/;

/**
 * The sentences of a memory's text, one piece each, without the speaker's name (it would pull every piece of one
 * person together); short ones joined to the one before. None when the text is a single piece: its own vector
 * already is that piece's.
 */
export function piecesOf(content: string): string[] {
  const pieces: string[] = [];
  for (const line of content.split('\n')) {
    const words = line.replace(SPEAKER, '').trim();
    if (!words) continue;
    const sentences = words.split(/(?<=[.!?…])\s+/).filter(Boolean);
    const merged: string[] = [];
    for (const sentence of sentences) {
      const last = merged.length - 1;
      if (last >= 0 && (wordCount(merged[last]!) < MIN_WORDS || wordCount(sentence) < MIN_WORDS)) merged[last] += ` ${sentence}`;
      else merged.push(sentence);
    }
    pieces.push(...merged);
  }
  const distinct = [...new Set(pieces)];
  return distinct.length > 1 ? distinct.slice(0, MAX_PIECES) : [];
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

export interface PieceInput {
  content: string;
  embedding: number[];
}

/** Stores the pieces of one memory (none: nothing to do). */
export async function insertPieces(em: EntityManager, memoryId: string, pieces: PieceInput[]): Promise<void> {
  if (!pieces.length) return;
  const params: unknown[] = [];
  const tuples = pieces.map((piece) => {
    params.push(memoryId, piece.content, pgvector.toSql(piece.embedding));
    return '(?, ?, ?)';
  });
  await em.execute(`insert into memory_pieces (memory_id, content, embedding) values ${tuples.join(', ')}`, params, 'run');
}
