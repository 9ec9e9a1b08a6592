import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TINY_SHAPE, writeBertModel } from '../../bench/models/make-bert.js';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';

/** A BERT with random weights made by bench/models/make-bert.ts (2 layers, 32 hidden), committed so CI needs no download. */
const MODELS = fileURLToPath(new URL('../fixtures/models', import.meta.url));
const TINY = 'dreamchat/tiny-bert-random';
/** The tiny local model with the given options. */
const tiny = (options: Partial<ConstructorParameters<typeof TransformersEmbedder>[0]> = {}) =>
  new TransformersEmbedder({ model: TINY, dimension: 32, cacheDir: MODELS, allowRemote: false, ...options });
const cosine = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);
const TEXTS = [
  'Hello there.',
  'The old keeper counts the ships every evening and writes their names in a leather book.',
  '',
  'Merchants bring saffron, indigo and stories of sea serpents.',
  'Hello there.',
];

describe('TransformersEmbedder on a local model (remote models off)', () => {
  it('loads the model from its directory and gives unit-length vectors of its size, in input order, whatever the batch', async () => {
    const embedder = tiny({ batchSize: 2 });
    const together = await embedder.embed(TEXTS);
    expect(together).toHaveLength(TEXTS.length);
    for (const vector of together) {
      expect(vector).toHaveLength(32);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    }
    // Sorted by length and cut into batches of 2 inside, yet each text keeps its own vector, and padding
    // (a short text beside a long one) changes nothing: the mean is over the text's own tokens.
    for (const [i, text] of TEXTS.entries()) {
      const [alone] = await embedder.embed([text]);
      expect(cosine(alone!, together[i]!), text).toBeCloseTo(1, 4);
    }
    expect(cosine(together[0]!, together[4]!)).toBeCloseTo(1, 6);
    expect(cosine(together[0]!, together[1]!)).toBeLessThan(0.999);
  }, 60_000);

  it('gives the feature-extraction pipeline’s vectors to the bit when its batches are the same, int8 and float', async () => {
    const { pipeline } = await import('@xenova/transformers');
    // The embedder sorts by length; one batch of all of them is what the pipeline is given here.
    const sorted = [...TEXTS].sort((a, b) => a.length - b.length);
    for (const quantized of [true, false]) {
      const embedder = tiny({ quantized, batchCharacters: Infinity });
      const extractor = await pipeline('feature-extraction', TINY, { quantized });
      const expected = (await extractor(sorted, { pooling: 'mean', normalize: true })).tolist() as number[][];
      const vectors = await embedder.embed(sorted);
      expect(vectors, `quantized: ${quantized}`).toEqual(expected);
    }
  }, 60_000);

  it('cuts batches by characters: the float model’s vectors do not change, the int8 one’s only by its rounding', async () => {
    // int8 activations are quantized with one range per batch (DynamicQuantizeLinear), so a text's vector moves
    // slightly with its batch mates, as it did with batches of 32.
    for (const quantized of [true, false]) {
      const whole = await tiny({ quantized, batchCharacters: Infinity }).embed(TEXTS);
      const cut = await tiny({ quantized, batchCharacters: 60 }).embed(TEXTS);
      if (!quantized) expect(cut).toEqual(whole);
      for (const [i, vector] of cut.entries()) expect(cosine(vector, whole[i]!), TEXTS[i]).toBeGreaterThan(0.9999);
    }
  }, 60_000);

  it('pools by the mean of the token vectors and normalises, in both the int8 and the float model', async () => {
    const { pipeline } = await import('@xenova/transformers');
    for (const quantized of [true, false]) {
      const embedder = tiny({ quantized });
      const [vector] = await embedder.embed([TEXTS[1]!]);
      // The same model's token vectors, unpooled: their mean, scaled to unit length, is the sentence vector.
      const extractor = await pipeline('feature-extraction', TINY, { quantized });
      const tokens = (await extractor(TEXTS[1]!, { pooling: 'none', normalize: false })).tolist()[0] as number[][];
      expect(tokens.length).toBeGreaterThan(10);
      const mean = tokens[0]!.map((_, j) => tokens.reduce((sum, token) => sum + token[j]!, 0) / tokens.length);
      const norm = Math.hypot(...mean);
      mean.forEach((value, j) => expect(vector![j]).toBeCloseTo(value / norm, 5));
    }
  }, 60_000);

  it('the committed model is what bench/models/make-bert.ts makes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dreamchat-bert-'));
    try {
      await writeBertModel(path.join(dir, TINY), TINY_SHAPE);
      for (const file of [
        ...(await readdir(path.join(MODELS, TINY))).filter((f) => f.includes('.')),
        'onnx/model.onnx',
        'onnx/model_quantized.onnx',
      ]) {
        expect(Buffer.compare(await readFile(path.join(dir, TINY, file)), await readFile(path.join(MODELS, TINY, file))), file).toBe(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('TransformersEmbedder without a cached model', () => {
  it('fails fast with a clear message when downloading is off and the cache is empty', async () => {
    const cacheDir = await mkdtemp(path.join(tmpdir(), 'dreamchat-models-'));
    const embedder = new TransformersEmbedder({ cacheDir, allowRemote: false });
    const started = Date.now();
    const error = (await embedder.embed(['hello']).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain('Could not load the embedding model Xenova/all-MiniLM-L6-v2');
    expect(error.message).toContain(cacheDir);
    expect(error.message).toContain('TRANSFORMERS_ALLOW_REMOTE=false');
    expect(Date.now() - started).toBeLessThan(20_000);
    // A second call tries again (and fails again) rather than caching the failure forever.
    await expect(embedder.embed(['again'])).rejects.toThrow(/Could not load the embedding model/);
  });
});
