import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The thread count is read in a process of its own: a test process holds
 * other tests' ONNX sessions, whose pools go whenever the GC frees them.
 */
const MODELS = fileURLToPath(new URL('../fixtures/models', import.meta.url));
const EMBEDDER = fileURLToPath(new URL('../../src/embeddings/transformers-embedder.ts', import.meta.url));
const SCRIPT = `
import { readdir, readFile } from 'node:fs/promises';
const { TransformersEmbedder } = await import(${JSON.stringify(EMBEDDER)});
// ONNX Runtime's pool threads take the name of the thread that made them (Linux).
const name = await readFile('/proc/self/comm', 'utf8');
const count = async () => {
  const names = await Promise.all((await readdir('/proc/self/task')).map((t) => readFile('/proc/self/task/' + t + '/comm', 'utf8').catch(() => '')));
  return names.filter((n) => n === name).length;
};
const options = { model: 'dreamchat/tiny-bert-random', dimension: 32, cacheDir: ${JSON.stringify(MODELS)}, allowRemote: false };
const texts = ['Hello there.', 'The old keeper counts the ships every evening.', ''];
const one = new TransformersEmbedder({ ...options, threads: 1 });
await one.load();
const before = await count();
const four = new TransformersEmbedder({ ...options, threads: 4 });
await four.load();
const after = await count();
console.log(JSON.stringify({ before, after, one: await one.embed(texts), four: await four.embed(texts) }));
`;

describe.runIf(process.platform === 'linux')('TransformersEmbedder threads', () => {
  it('runs ONNX Runtime with the thread count it is given (onnxruntime-node ignores options for a model given as bytes)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT]);
    const { before, after, one, four } = JSON.parse(stdout) as { before: number; after: number; one: number[][]; four: number[][] };
    // threads: 1 runs on the calling thread alone; threads: 4 adds a pool of 3.
    expect(before).toBe(1);
    expect(after).toBe(4);
    // The same vectors whatever the thread count.
    expect(four).toEqual(one);
  }, 60_000);
});
