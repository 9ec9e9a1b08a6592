import type { Embedder } from './embedder.js';
import { meanPoolNormalized } from './mean-pool.js';

/**
 * Local embeddings with @xenova/transformers (ONNX Runtime), by default
 * Xenova/all-MiniLM-L6-v2 quantized: 384 dimensions, about 23 MB.
 *
 * Offline hosts: download the model once where there is internet, e.g.
 *   TRANSFORMERS_CACHE_DIR=./models node -e "import('@xenova/transformers').then(t => t.pipeline('feature-extraction', 'Xenova/all-MiniLM-L6-v2'))"
 * then copy ./models to the host and set TRANSFORMERS_ALLOW_REMOTE=false.
 *
 * Inference runs one batch at a time per process (a queue), so chat queries
 * and ingestion never run ONNX sessions side by side and the native thread
 * pool stays bounded. Texts are sorted by length before batching (less
 * padding) and results are returned in input order.
 */
export interface TransformersEmbedderOptions {
  model?: string;
  dimension?: number;
  cacheDir: string;
  allowRemote: boolean;
  quantized?: boolean;
  batchSize?: number;
}

/** What the feature-extraction pipeline holds: its tokenizer and model, called directly so the pooling is ours. */
interface Extractor {
  tokenizer(texts: string[], options: { padding: true; truncation: true }): { attention_mask: { data: BigInt64Array } };
  model(inputs: object): Promise<{ last_hidden_state: { data: Float32Array; dims: number[] } }>;
}

export class TransformersEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly #options: TransformersEmbedderOptions;
  #extractor: Promise<Extractor> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: TransformersEmbedderOptions) {
    this.#options = options;
    this.id = options.model ?? 'Xenova/all-MiniLM-L6-v2';
    this.dimension = options.dimension ?? 384;
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
    const extractor = await this.#load();
    const order = texts.map((text, index) => ({ text, index })).sort((a, b) => a.text.length - b.text.length);
    const vectors = new Array<number[]>(texts.length);
    const batchSize = this.#options.batchSize ?? 32;
    for (let start = 0; start < order.length; start += batchSize) {
      signal?.throwIfAborted();
      const batch = order.slice(start, start + batchSize);
      // The pipeline's own steps (tokenize with padding and truncation, run the model, mean-pool, normalise), with a
      // pooling that gives the same vectors at a fraction of the library's cost (mean-pool.ts).
      const inputs = extractor.tokenizer(
        batch.map((item) => item.text),
        { padding: true, truncation: true },
      );
      const { last_hidden_state } = await extractor.model(inputs);
      const rows = meanPoolNormalized(last_hidden_state, inputs.attention_mask);
      batch.forEach((item, i) => (vectors[item.index] = rows[i]!));
    }
    return vectors;
  }

  #load(): Promise<Extractor> {
    this.#extractor ??= this.#loadModel().catch((error: unknown) => {
      this.#extractor = undefined;
      throw error;
    });
    return this.#extractor;
  }

  async #loadModel(): Promise<Extractor> {
    const { env, pipeline } = await import('@xenova/transformers');
    // The library keeps these settings globally; this is the only place that sets them.
    env.cacheDir = this.#options.cacheDir;
    env.localModelPath = this.#options.cacheDir;
    env.allowRemoteModels = this.#options.allowRemote;
    env.allowLocalModels = true;
    try {
      const extractor = await pipeline('feature-extraction', this.id, { quantized: this.#options.quantized ?? true });
      return extractor as unknown as Extractor;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `Could not load the embedding model ${this.id}: it is not in ${this.#options.cacheDir}` +
          (this.#options.allowRemote
            ? ' and downloading it failed.'
            : ' and downloading is turned off (TRANSFORMERS_ALLOW_REMOTE=false).') +
          ` Pre-download it (see the README, "Embeddings"), or set EMBEDDER=hashing. (${reason})`,
        { cause: error },
      );
    }
  }
}
