import { countTokens as tokenizerCount } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { countTokens } from '../../src/chat/tokens.js';

describe('countTokens', () => {
  it('gives the tokenizer’s count, for a text seen before and for one pushed out of the kept counts', () => {
    const text = 'Aria tunes her lute by the fire: “Another song about the harbour, then?”';
    const expected = tokenizerCount(text);
    expect(countTokens(text)).toBe(expected);
    expect(countTokens(text)).toBe(expected);
    // More different texts than are kept: the first is counted again, and the same.
    for (let i = 0; i < 20_001; i++) expect(countTokens(`line ${i}`)).toBe(tokenizerCount(`line ${i}`));
    expect(countTokens(text)).toBe(expected);
    expect(countTokens('')).toBe(0);
  });
});
