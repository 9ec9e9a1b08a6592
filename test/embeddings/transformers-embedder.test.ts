import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';

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
