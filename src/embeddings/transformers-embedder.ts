import { access } from 'node:fs/promises';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
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
 *
 * The library tokenizes; the ONNX session is ours, opened from the model's
 * file path: onnxruntime-node 1.14 ignores every session option when given
 * the model as bytes (what transformers.js does), so its thread count could
 * not be set. `threads` is ONNX Runtime's intra-op thread count (default 1;
 * 0: one per core). On a 2-core machine with its cores free, two threads
 * embedded 1.8 times as fast as one; with one other busy process on it, one
 * thread was 1.7 times as fast as two, whose pool spin-waits for a partner
 * that is not scheduled (see the README, "Embeddings", for the figures).
 */
export interface TransformersEmbedderOptions {
  model?: string;
  dimension?: number;
  cacheDir: string;
  allowRemote: boolean;
  quantized?: boolean;
  /** Most texts in one run of the model (default 32). */
  batchSize?: number;
  /**
   * Most characters in one run, counting each text as long as the batch's
   * longest (its padding): default 6,000, about 1,400 English tokens, which is
   * 4 chunks of 384 tokens or 10 of 128. Batches of 32 chunks of 358 tokens
   * ran 25% slower per token than batches of 4 (their activations no longer fit
   * in the cache), and hold the event loop for longer: onnxruntime-node runs
   * the model synchronously on the calling thread.
   */
  batchCharacters?: number;
  /** ONNX Runtime's intra-op threads (default 1; 0: one per core). */
  threads?: number;
}

/** The model's tokenizer (the library's) and its ONNX session (ours). */
interface Extractor {
  tokenizer(texts: string[], options: { padding: true; truncation: true }): Record<string, TokenTensor>;
  session: InferenceSession;
  Tensor: typeof import('onnxruntime-node').Tensor;
}

interface TokenTensor {
  data: BigInt64Array;
  dims: number[];
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
    for (const batch of batches(order, this.#options.batchSize ?? 32, this.#options.batchCharacters ?? 6_000)) {
      signal?.throwIfAborted();
      // The feature-extraction pipeline's steps (tokenize with padding and truncation, run the model, mean-pool,
      // normalise), with a pooling that gives the same vectors at a fraction of the library's cost (mean-pool.ts).
      const tokens = extractor.tokenizer(
        batch.map((item) => item.text),
        { padding: true, truncation: true },
      );
      const rows = meanPoolNormalized(await this.#run(extractor, tokens), tokens.attention_mask!);
      batch.forEach((item, i) => (vectors[item.index] = rows[i]!));
    }
    return vectors;
  }

  /** The model's token vectors, fed as transformers.js feeds an encoder (token types all 0 when the tokenizer has none). */
  async #run(extractor: Extractor, tokens: Record<string, TokenTensor>): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const { session, Tensor } = extractor;
    const ids = tokens.input_ids!;
    const feeds: Record<string, InstanceType<typeof Tensor>> = {};
    for (const name of session.inputNames) {
      const given = tokens[name] ?? (name === 'token_type_ids' ? { data: new BigInt64Array(ids.data.length), dims: ids.dims } : undefined);
      if (!given) throw new Error(`The embedding model ${this.id} wants an input the tokenizer does not make: ${name}.`);
      feeds[name] = new Tensor('int64', given.data, given.dims);
    }
    const outputs = await session.run(feeds);
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings ?? outputs[session.outputNames[0]!]!;
    return { data: hidden.data as Float32Array, dims: hidden.dims };
  }

  #load(): Promise<Extractor> {
    this.#extractor ??= this.#loadModel().catch((error: unknown) => {
      this.#extractor = undefined;
      throw error;
    });
    return this.#extractor;
  }

  async #loadModel(): Promise<Extractor> {
    const { env, AutoModel, AutoTokenizer } = await import('@xenova/transformers');
    const { InferenceSession, Tensor } = await import('onnxruntime-node');
    // The library keeps these settings globally; this is the only place that sets them.
    env.cacheDir = this.#options.cacheDir;
    env.localModelPath = this.#options.cacheDir;
    env.allowRemoteModels = this.#options.allowRemote;
    env.allowLocalModels = true;
    const quantized = this.#options.quantized ?? true;
    // Where the library finds a local model, and where it caches one it downloads.
    const file = path.join(this.#options.cacheDir, this.id, 'onnx', quantized ? 'model_quantized.onnx' : 'model.onnx');
    try {
      const tokenizer = await AutoTokenizer.from_pretrained(this.id);
      if (!(await exists(file))) {
        if (!this.#options.allowRemote) throw new Error(`${file} does not exist.`);
        await AutoModel.from_pretrained(this.id, { quantized }); // downloads it into the cache
      }
      const session = await InferenceSession.create(file, { intraOpNumThreads: this.#options.threads ?? 1 });
      return { tokenizer: tokenizer as unknown as Extractor['tokenizer'], session, Tensor };
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

/** Consecutive runs of texts sorted by length, each within both limits (a text longer than the budget goes alone). */
function batches<T extends { text: string }>(sorted: T[], most: number, characters: number): T[][] {
  const cut: T[][] = [];
  let batch: T[] = [];
  for (const item of sorted) {
    if (batch.length && (batch.length === most || (batch.length + 1) * item.text.length > characters)) {
      cut.push(batch);
      batch = [];
    }
    batch.push(item);
  }
  if (batch.length) cut.push(batch);
  return cut;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
