import { describe, expect, it } from 'vitest';
import { checkDimension } from '../../src/embeddings/embedder.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

describe('HashingEmbedder', () => {
  it('is deterministic, of the configured dimension and unit length', async () => {
    const embedder = new HashingEmbedder(384);
    const [a, b] = await embedder.embed(['The lighthouse keeper', 'The lighthouse keeper']);
    expect(a).toHaveLength(384);
    expect(a).toEqual(b);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 6);
  });

  it('ranks the paragraph that answers a question first', async () => {
    const embedder = new HashingEmbedder(384);
    const paragraphs = [
      'Ione is my sister. She lives in Thessaloniki and paints ships.',
      'I am allergic to peanuts, so please never offer me satay.',
      'The tavern opens at dusk; the bard plays old sea shanties there.',
      'Our cat Miso sleeps on the windowsill every afternoon.',
      'The northern pass is closed in winter because of avalanches.',
    ];
    const questions: [string, number][] = [
      ['What is the name of my sister?', 0],
      ['Which food am I allergic to?', 1],
      ['When does the tavern open?', 2],
      ['Where does the cat sleep?', 3],
      ['Why is the northern pass closed?', 4],
    ];
    const vectors = await embedder.embed(paragraphs);
    for (const [question, expected] of questions) {
      const [q] = await embedder.embed([question]);
      const ranked = vectors.map((v, i) => [cosine(q!, v), i] as const).sort((x, y) => y[0] - x[0]);
      expect(ranked[0]![1], question).toBe(expected);
    }
  });

  it('embeds empty text without NaN', async () => {
    const [v] = await new HashingEmbedder(8).embed(['']);
    expect(v!.every((x) => Number.isFinite(x))).toBe(true);
  });

  it('start-up check names both dimensions', () => {
    expect(() => checkDimension(new HashingEmbedder(256), 384)).toThrow(/makes 256-dimensional vectors, but EMBEDDING_DIMENSION is 384/);
  });
});
