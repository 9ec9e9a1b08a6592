import { countTokens as count } from 'gpt-tokenizer';

/**
 * Token count with the o200k tokenizer (GPT-4o family). Other vendors'
 * tokenizers differ by a few percent; budgets keep a margin for that.
 */
export function countTokens(text: string): number {
  return text ? count(text) : 0;
}

/** Tokens a chat message costs beyond its text (role and separators). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
