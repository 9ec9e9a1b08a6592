import type { EntityManager } from '@mikro-orm/postgresql';
import { uuidArray } from '../core/uuid.js';

/** A run of at least this many words copied from a deleted person's messages is blanked out of what stays. */
export const QUOTE_MIN_WORDS = 6;
/** What a blanked-out run becomes. */
export const REMOVED = '[removed]';

/** Letters and digits, with inner apostrophes ("don't"); everything else (spaces, punctuation, markdown) separates words. */
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

interface Word {
  key: string;
  start: number;
  end: number;
}

function wordsOf(text: string): Word[] {
  return [...text.matchAll(WORD)].map((match) => ({
    key: match[0].normalize('NFKC').toLowerCase().replace(/’/g, "'"),
    start: match.index,
    end: match.index + match[0].length,
  }));
}

function runAt(words: Word[], at: number, length: number): string {
  return words
    .slice(at, at + length)
    .map((word) => word.key)
    .join(' ');
}

/**
 * Finds what someone wrote in other texts: every run of `minWords` words of their messages, compared word by word
 * without regard to case, spacing or punctuation.
 */
export class QuoteFinder {
  readonly #runs = new Set<string>();
  readonly #minWords: number;

  constructor(texts: Iterable<string>, minWords = QUOTE_MIN_WORDS) {
    this.#minWords = minWords;
    for (const text of texts) {
      const words = wordsOf(text);
      for (let at = 0; at + minWords <= words.length; at++) this.#runs.add(runAt(words, at, minWords));
    }
  }

  /** `text` with each stretch of words copied from the messages (overlapping runs joined) replaced by REMOVED. */
  redact(text: string): string {
    if (!this.#runs.size) return text;
    const words = wordsOf(text);
    const copied = new Array<boolean>(words.length).fill(false);
    for (let at = 0; at + this.#minWords <= words.length; at++) {
      if (this.#runs.has(runAt(words, at, this.#minWords))) copied.fill(true, at, at + this.#minWords);
    }
    let out = '';
    let from = 0;
    for (let at = 0; at < words.length; at++) {
      if (!copied[at]) continue;
      let last = at;
      while (last + 1 < words.length && copied[last + 1]) last++;
      out += `${text.slice(from, words[at]!.start)}${REMOVED}`;
      from = words[last]!.end;
      at = last;
    }
    return out ? out + text.slice(from) : text;
  }
}

/** A conversation a person spoke in: since when, and what they wrote there. */
export interface SpokenIn {
  conversation_id: string;
  since: Date;
  texts: string[];
}

/** Rows read per query while rewriting a conversation's texts. */
const PAGE = 500;

/**
 * Blanks out what a person wrote wherever the character or the summarizer repeated it in the conversations they
 * spoke in: replies to other people and their alternatives, notes about other people, and a summary written by
 * hand (summaries that cover their messages are deleted, not rewritten). Memories that quote them are deleted: their
 * vectors were made from the words. Other people's own messages stay as they wrote them. Call inside the deletion's
 * transaction, with the person's messages (`spoken`) read before they go; returns how many texts changed and the
 * replies whose memory should be made again from what is left.
 */
export async function removeQuotesOf(
  tx: EntityManager,
  userId: string,
  spoken: SpokenIn[],
): Promise<{ rewritten: number; rememorize: string[] }> {
  let rewritten = 0;
  const rememorize = new Set<string>();
  for (const { conversation_id: conversationId, since, texts } of spoken) {
    const finder = new QuoteFinder(texts);
    /** Rows of `table` in this conversation whose `column` quotes the person: rewritten, or (keep) only named. */
    const quoting = async (table: string, column: string, where: string, params: unknown[], rewrite = true) => {
      const found: string[] = [];
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const rows = await tx.execute<{ id: string; text: string }[]>(
          `select id, ${column} as text from ${table} where conversation_id = ? and id > ? and ${where} order by id limit ${PAGE}`,
          [conversationId, after, ...params],
        );
        for (const row of rows) {
          const redacted = finder.redact(row.text);
          if (redacted === row.text) continue;
          found.push(row.id);
          if (rewrite) await tx.execute(`update ${table} set ${column} = ? where id = ?`, [redacted, row.id], 'run');
        }
        if (rows.length < PAGE) break;
        after = rows.at(-1)!.id;
      }
      rewritten += found.length;
      return found;
    };
    // Nothing written before they first spoke can repeat them.
    for (const id of await quoting('messages', 'content', `role = 'assistant' and created_at >= ?`, [since])) rememorize.add(id);
    await quoting('story_branches', 'content', 'created_at >= ?', [since]);
    await quoting('person_notes', 'content', 'user_id <> ?', [userId]);
    const memories = await quoting('vector_memories', 'content', 'created_at >= ?', [since], false);
    if (memories.length) {
      const deleted = await tx.execute<{ message_id: string | null }[]>(
        'delete from vector_memories where id = any(?::uuid[]) returning message_id',
        [uuidArray(memories)],
      );
      for (const row of deleted) if (row.message_id) rememorize.add(row.message_id);
    }
    const [row] = await tx.execute<{ text: string | null }[]>(
      `select settings #>> '{summary,text}' as text from conversations where id = ?`,
      [conversationId],
    );
    const summary = row?.text ?? '';
    const redacted = finder.redact(summary);
    if (redacted !== summary) {
      rewritten++;
      await tx.execute(
        `update conversations set settings = jsonb_set(settings, '{summary,text}', to_jsonb(?::text)) where id = ?`,
        [redacted, conversationId],
        'run',
      );
    }
  }
  return { rewritten, rememorize: [...rememorize] };
}
