/**
 * Mean pooling and L2 normalisation of a BERT's token vectors, as
 * @xenova/transformers' feature-extraction pipeline does them
 * (`mean_pooling` then `normalize(2, -1)`), with the same arithmetic in the
 * same order so the vectors are the same to the bit, but in one pass over
 * the output row by row. The library's version walks the hidden state
 * column-wise and converts the int64 attention mask to a number once per
 * element of the hidden state (seq × 384 BigInt conversions a text), which
 * cost a fifth of the CPU time of embedding 358-token chunks.
 */
export function meanPoolNormalized(
  hidden: { data: ArrayLike<number>; dims: readonly number[] },
  mask: { data: ArrayLike<bigint | number> },
): number[][] {
  const [batch, sequence, size] = hidden.dims as [number, number, number];
  const data = hidden.data;
  const sums = new Float64Array(size);
  const mean = new Float32Array(size);
  const vectors: number[][] = [];
  for (let b = 0; b < batch; b++) {
    sums.fill(0);
    let count = 0;
    for (let t = 0; t < sequence; t++) {
      // Padding adds nothing (the library adds value × 0 to the sum and 0 to the count).
      if (Number(mask.data[b * sequence + t]) === 0) continue;
      count++;
      const row = (b * sequence + t) * size;
      for (let k = 0; k < size; k++) sums[k]! += data[row + k]!;
    }
    // The mean is stored as float32, and the squared norm summed in float32, as the library's tensors do.
    let squares = 0;
    for (let k = 0; k < size; k++) {
      mean[k] = sums[k]! / count;
      squares = Math.fround(squares + mean[k]! ** 2);
    }
    const norm = Math.fround(squares ** 0.5);
    const vector = new Array<number>(size);
    for (let k = 0; k < size; k++) vector[k] = Math.fround(mean[k]! / norm);
    vectors.push(vector);
  }
  return vectors;
}
