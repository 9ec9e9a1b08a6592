import { describe, expect, it } from 'vitest';
import { countTokens } from '../../src/chat/tokens.js';
import { chunkDocument } from '../../src/knowledge/chunk.js';

const paragraph = (i: number) =>
  `Paragraph ${i} tells of the harbour town of Veyra, its lighthouse and the keeper who watches the sea. ` +
  'The fishermen come home at dusk and the tavern fills with songs about storms, nets and lost ships.';

describe('chunkDocument', () => {
  const text = [
    '# Veyra',
    ...Array.from({ length: 30 }, (_, i) => paragraph(i)),
    '## The lighthouse',
    ...Array.from({ length: 10 }, (_, i) => paragraph(100 + i)),
  ].join('\n\n');
  const chunks = chunkDocument({ text, mimeType: 'text/markdown' }, { maxTokens: 256, overlapTokens: 48 });

  it('respects the token budget, measured with the same tokenizer, and makes no empty chunk', () => {
    expect(chunks.length).toBeGreaterThan(4);
    for (const chunk of chunks) {
      expect(chunk.text.trim()).not.toBe('');
      expect(countTokens(chunk.text)).toBeLessThanOrEqual(256);
      expect(chunk.tokenCount).toBe(countTokens(chunk.text));
    }
  });

  it('keeps offsets that map back to the text exactly, in order, covering every paragraph', () => {
    chunks.forEach((chunk, i) => {
      expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
      expect(chunk.index).toBe(i);
    });
    for (let i = 0; i < 30; i++) expect(chunks.some((c) => c.text.includes(`Paragraph ${i} `))).toBe(true);
  });

  it('overlaps neighbouring chunks within a section and starts a new chunk at a heading', () => {
    const overlapping = chunks.filter((c, i) => i > 0 && c.start < chunks[i - 1]!.end);
    expect(overlapping.length).toBeGreaterThan(0);
    const lighthouse = chunks.find((c) => c.text.startsWith('## The lighthouse'));
    expect(lighthouse?.heading).toBe('The lighthouse');
    expect(chunks[0]!.heading).toBe('Veyra');
  });

  it('splits an enormous sentence by words and a single huge word by characters', () => {
    const words = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(' ');
    const byWords = chunkDocument({ text: words, mimeType: 'text/plain' }, { maxTokens: 100, overlapTokens: 10 });
    expect(byWords.length).toBeGreaterThan(10);
    byWords.forEach((c) => expect(countTokens(c.text)).toBeLessThanOrEqual(100));
    const blob = 'x'.repeat(20_000);
    const byChars = chunkDocument({ text: blob, mimeType: 'text/plain' }, { maxTokens: 100, overlapTokens: 0 });
    byChars.forEach((c) => expect(c.tokenCount).toBeLessThanOrEqual(100));
    expect(byChars.map((c) => c.text).join('')).toBe(blob);
  });

  it('keeps page numbers from PDF sections', () => {
    const pages = ['First page text about ships.', 'Second page text about storms.'];
    const result = chunkDocument({
      text: pages.join('\n\n'),
      mimeType: 'application/pdf',
      sections: pages.map((p, i) => ({ text: p, page: i + 1 })),
    });
    expect(result.map((c) => [c.page, c.text])).toEqual([
      [1, 'First page text about ships.'],
      [2, 'Second page text about storms.'],
    ]);
  });

  it('chunks a few MB of text quickly enough for ingestion', () => {
    const big = Array.from({ length: 20_000 }, (_, i) => paragraph(i)).join('\n\n');
    const result = chunkDocument({ text: big, mimeType: 'text/plain' });
    expect(result.length).toBeGreaterThan(1000);
    expect(result.at(-1)!.end).toBe(big.length);
  });
});
