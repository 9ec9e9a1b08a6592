import type { Embedder } from '../../src/embeddings/embedder.js';
import { createLogger } from '../../src/logger.js';
import type { JobContext } from '../../src/queue/job-queue.js';

/** What a queue hands a job handler, for calling the handler directly: a first try, silent, never aborted. */
export function jobContext(queue: string, id = 'direct'): JobContext {
  return {
    id,
    queue,
    attempt: 1,
    logger: createLogger('silent'),
    signal: new AbortController().signal,
    updateProgress: async () => {},
  };
}

/**
 * An embedder whose first call waits inside until `release()`: `entered` resolves once that call is holding, so a
 * test can do something in the middle of a job (after it read its texts, before it writes).
 */
export function heldEmbedder(embedder: Embedder): { embedder: Embedder; entered: Promise<void>; release: () => void } {
  let enter!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let calls = 0;
  return {
    embedder: {
      id: embedder.id,
      dimension: embedder.dimension,
      embed: async (texts: string[]) => {
        if (++calls === 1) {
          enter();
          await held;
        }
        return embedder.embed(texts);
      },
    },
    entered,
    release,
  };
}
