import { countTokens as count } from 'gpt-tokenizer';

/**
 * Texts whose counts are kept: every reply counts its whole history again (up to 400 messages), and the card, lore
 * and memories again, so the same texts come back turn after turn. Least recently used go first.
 */
const CACHED_TEXTS = 20_000;
const counted = new Map<string, number>();

/**
 * Token count with the o200k tokenizer (GPT-4o family). Other vendors'
 * tokenizers differ by a few percent; budgets keep a margin for that.
 */
export function countTokens(text: string): number {
  if (!text) return 0;
  const known = counted.get(text);
  if (known !== undefined) {
    counted.delete(text);
    counted.set(text, known);
    return known;
  }
  const tokens = count(text);
  counted.set(text, tokens);
  if (counted.size > CACHED_TEXTS) counted.delete(counted.keys().next().value!);
  return tokens;
}

/** Tokens a chat message costs beyond its text (role and separators). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
