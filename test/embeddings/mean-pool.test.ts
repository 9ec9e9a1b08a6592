import { mean_pooling, Tensor } from '@xenova/transformers';
import { describe, expect, it } from 'vitest';
import { meanPoolNormalized } from '../../src/embeddings/mean-pool.js';

/** Token vectors [batch, sequence, size] of a small deterministic generator, and a mask with each row's padding at its end. */
function outputs(batch: number, sequence: number, size: number, lengths: number[]) {
  let state = 7;
  const data = Float32Array.from({ length: batch * sequence * size }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return (state / 2 ** 31 - 0.5) * 4;
  });
  const mask = BigInt64Array.from({ length: batch * sequence }, (_, i) => (i % sequence < lengths[Math.floor(i / sequence)]! ? 1n : 0n));
  return { hidden: { data, dims: [batch, sequence, size] }, mask: { data: mask, dims: [batch, sequence] } };
}

describe('meanPoolNormalized', () => {
  it('gives the mean of a text’s own token vectors, scaled to unit length, whatever the padding', () => {
    // Two texts: [1,2] and [3,4] (then a padded token that must not count), and [0,5] alone.
    const hidden = { data: Float32Array.from([1, 2, 3, 4, 100, 100, 0, 5, 9, 9, 9, 9]), dims: [2, 3, 2] };
    const mask = { data: BigInt64Array.from([1n, 1n, 0n, 1n, 0n, 0n]) };
    const [first, second] = meanPoolNormalized(hidden, mask);
    expect(first![0]).toBeCloseTo(2 / Math.hypot(2, 3), 6);
    expect(first![1]).toBeCloseTo(3 / Math.hypot(2, 3), 6);
    expect(second).toEqual([0, 1]);
  });

  it('is bit for bit what @xenova/transformers’ mean_pooling and normalize(2, -1) give', () => {
    const lengths = [17, 3, 40, 1, 29];
    const { hidden, mask } = outputs(lengths.length, 40, 384, lengths);
    const library = mean_pooling(new Tensor('float32', hidden.data, hidden.dims), new Tensor('int64', mask.data, mask.dims));
    const expected = library.normalize(2, -1).tolist() as number[][];
    const vectors = meanPoolNormalized(hidden, mask);
    expect(vectors).toHaveLength(lengths.length);
    expect(vectors).toEqual(expected);
  });
});
