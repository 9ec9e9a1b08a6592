import type { Embedder } from '../../src/embeddings/embedder.js';

/**
 * The bench's embedder: the same model, each distinct text embedded once.
 * The bench asks recall several times per probe and replays the same
 * conversation once per retrieval mode, so the slow embedders would spend
 * most of the run on texts they have already seen. The vectors are the
 * model's own, so the figures are the same as without the cache.
 */
export function cachedEmbedder(embedder: Embedder): Embedder {
  const cache = new Map<string, number[]>();
  return {
    id: embedder.id,
    dimension: embedder.dimension,
    async embed(texts: string[], signal?: AbortSignal) {
      const missing = [...new Set(texts.filter((text) => !cache.has(text)))];
      if (missing.length) {
        const vectors = await embedder.embed(missing, signal);
        missing.forEach((text, i) => cache.set(text, vectors[i]!));
      }
      return texts.map((text) => cache.get(text)!);
    },
    close: embedder.close?.bind(embedder),
  };
}
