import type { Config } from '../config.js';
import { createProvider } from '../llm/create-provider.js';
import { checkDimension, type Embedder } from './embedder.js';
import { HashingEmbedder } from './hashing-embedder.js';
import { TransformersEmbedder } from './transformers-embedder.js';
import { UseEmbedder } from './use-embedder.js';

/** Embeddings through a provider's endpoint (OpenAI-compatible /v1/embeddings, Ollama /api/embed). */
class ProviderEmbedder implements Embedder {
  constructor(
    readonly id: string,
    readonly dimension: number,
    private readonly run: (texts: string[], signal?: AbortSignal) => Promise<number[][]>,
    private readonly batchSize: number,
  ) {}

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = await this.run(texts.slice(start, start + this.batchSize), signal);
      for (const vector of batch) {
        if (vector.length !== this.dimension) {
          throw new Error(`${this.id} returned ${vector.length}-dimensional vectors; EMBEDDING_DIMENSION is ${this.dimension}.`);
        }
      }
      vectors.push(...batch);
    }
    return vectors;
  }
}

/** The embedder EMBEDDER names, checked against EMBEDDING_DIMENSION. */
export function createEmbedder(config: Config): Embedder {
  const { embedding, systemProviders } = config;
  let embedder: Embedder;
  switch (embedding.embedder) {
    case 'hashing':
      embedder = new HashingEmbedder(embedding.dimension);
      break;
    case 'use':
      embedder = new UseEmbedder();
      break;
    case 'transformers':
      embedder = new TransformersEmbedder({
        model: embedding.model,
        dimension: embedding.dimension,
        cacheDir: embedding.cacheDir,
        allowRemote: embedding.allowRemote,
        threads: embedding.threads,
      });
      break;
    case 'openai':
    case 'ollama': {
      const source = embedding.embedder === 'openai' ? systemProviders.openai : systemProviders.ollama;
      if (!source) {
        throw new Error(
          `EMBEDDER=${embedding.embedder} needs ${embedding.embedder === 'openai' ? 'OPENAI_API_KEY' : 'OLLAMA_HOST'} to be set.`,
        );
      }
      const model = embedding.model ?? (embedding.embedder === 'openai' ? 'text-embedding-3-small' : 'nomic-embed-text');
      const provider = createProvider({
        type: embedding.embedder === 'openai' ? (systemProviders.openai?.baseUrl ? 'openai-compatible' : 'openai') : 'ollama',
        name: 'embeddings',
        config:
          embedding.embedder === 'openai'
            ? { apiKey: systemProviders.openai!.apiKey, baseUrl: systemProviders.openai!.baseUrl }
            : { baseUrl: systemProviders.ollama!.host },
        policy: { allowPrivate: true },
      });
      embedder = new ProviderEmbedder(model, embedding.dimension, (texts, signal) => provider.embed!(texts, model, signal), 64);
      break;
    }
  }
  checkDimension(embedder, embedding.dimension);
  return embedder;
}
