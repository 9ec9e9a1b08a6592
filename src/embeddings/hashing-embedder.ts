import type { Embedder } from './embedder.js';

/**
 * Feature hashing: words, word pairs and character trigrams are hashed into a
 * fixed number of signed buckets, weighted by log term frequency, and the
 * vector is L2-normalised. No model, deterministic, fast and fully offline —
 * but it matches shared wording, not meaning, so retrieval is weaker than with
 * a neural model. Used for tests and for hosts that cannot load a model.
 */
export class HashingEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;

  constructor(dimension: number) {
    if (!Number.isInteger(dimension) || dimension < 2) throw new Error('The hashing embedder needs a dimension of 2 or more.');
    this.dimension = dimension;
    this.id = `hashing-v1-${dimension}`;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((text) => this.#embedOne(text));
  }

  #embedOne(text: string): number[] {
    const counts = new Map<number, number>();
    const add = (feature: string, weight: number) => {
      const hash = fnv1a(feature);
      const bucket = hash % this.dimension;
      const sign = (hash >>> 31) & 1 ? -1 : 1;
      counts.set(bucket, (counts.get(bucket) ?? 0) + sign * weight);
    };
    const words = text
      .toLowerCase()
      .normalize('NFKC')
      .split(/[^\p{L}\p{N}]+/u)
      .filter((word) => word.length > 1 && !STOP_WORDS.has(word));
    const tf = new Map<string, number>();
    for (const word of words) tf.set(word, (tf.get(word) ?? 0) + 1);
    for (const [word, n] of tf) {
      const weight = 1 + Math.log(n);
      add(`w:${stem(word)}`, weight);
      const padded = `^${word}$`;
      for (let i = 0; i + 3 <= padded.length; i++) add(`c:${padded.slice(i, i + 3)}`, 0.25 * weight);
    }
    for (let i = 0; i + 1 < words.length; i++) add(`b:${stem(words[i]!)}_${stem(words[i + 1]!)}`, 0.5);
    const vector = new Array<number>(this.dimension).fill(0);
    for (const [bucket, value] of counts) vector[bucket] = value;
    const norm = Math.hypot(...vector) || 1;
    return vector.map((value) => value / norm);
  }
}

/** A crude suffix strip so "sisters"/"sister" and "allergic"/"allergy" share features. */
function stem(word: string): string {
  return word.replace(/(ies|es|s|ing|ed|ic|y)$/u, '') || word;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const STOP_WORDS = new Set(
  'the a an and or but of to in on at for with is are was were be been it its this that these those i you he she we they me my your his her our their what who whom which when where why how do does did not no so as by from if then than there here'.split(
    ' ',
  ),
);
