import { describe, expect, it } from 'vitest';
import { splitMessage } from '../../src/discord/split-message.js';

describe('splitMessage', () => {
  it('keeps a short message whole', () => {
    expect(splitMessage('Hello there.')).toEqual(['Hello there.']);
  });

  it('splits at paragraph breaks under the limit, losing no words', () => {
    const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}. ${'words and more words '.repeat(12)}`.trim());
    const text = paragraphs.join('\n\n');
    const parts = splitMessage(text, 2000);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(2000);
    for (const part of parts.slice(0, -1)) expect(part.endsWith('words')).toBe(true);
    expect(parts.join(' ').split(/\s+/)).toEqual(text.split(/\s+/));
  });

  it('falls back to sentences, then words, then a hard cut', () => {
    const sentences = 'This is one sentence. '.repeat(150);
    for (const part of splitMessage(sentences, 500)) {
      expect(part.length).toBeLessThanOrEqual(500);
      expect(part.endsWith('.')).toBe(true);
    }
    const oneWord = 'x'.repeat(4500);
    const parts = splitMessage(oneWord, 2000);
    expect(parts.map((p) => p.length)).toEqual([1996, 1996, 508]);
    expect(parts.join('')).toBe(oneWord);
  });

  it('closes and reopens a code fence cut in half', () => {
    const code = '```ts\n' + 'const x = 1;\n'.repeat(300) + '```';
    const parts = splitMessage(code, 2000);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(2000);
      expect((part.match(/```/g) ?? []).length % 2).toBe(0);
    }
    expect(parts[1]!.startsWith('```ts\n')).toBe(true);
  });
});
