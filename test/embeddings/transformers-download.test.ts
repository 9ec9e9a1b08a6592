import { readFile, mkdtemp, rm, access } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';

/**
 * A model downloaded on first use: a model host on 127.0.0.1 serves the
 * committed tiny model the way the Hugging Face Hub serves files
 * (`<model>/resolve/main/<file>`), and the embedder, with an empty cache,
 * fetches it, caches it and opens its session from the cached file.
 */
const MODELS = fileURLToPath(new URL('../fixtures/models', import.meta.url));
const TINY = 'dreamchat/tiny-bert-random';
const TEXTS = ['Hello there.', 'The old keeper counts the ships every evening and writes their names in a leather book.'];

let server: Server;
let requested: string[];
let cacheDir: string;
let remoteHost: string;

beforeEach(async () => {
  requested = [];
  server = createServer((request, response) => {
    const match = /^\/(.+?)\/resolve\/main\/(.+)$/.exec(request.url ?? '');
    requested.push(request.url ?? '');
    if (!match || match[1] !== TINY) return void response.writeHead(404).end();
    readFile(path.join(MODELS, TINY, match[2]!)).then(
      (body) => response.writeHead(200, { 'content-length': body.length }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cacheDir = await mkdtemp(path.join(tmpdir(), 'dreamchat-download-'));
  const { env } = await import('@xenova/transformers');
  remoteHost = env.remoteHost;
  env.remoteHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterEach(async () => {
  const { env } = await import('@xenova/transformers');
  env.remoteHost = remoteHost;
  await new Promise((resolve) => server.close(resolve));
  await rm(cacheDir, { recursive: true, force: true });
});

describe('TransformersEmbedder with downloading on', () => {
  it('downloads a model it does not have into its cache and embeds with it, as the local copy does', async () => {
    const downloaded = new TransformersEmbedder({ model: TINY, dimension: 32, cacheDir, allowRemote: true });
    const vectors = await downloaded.embed(TEXTS);
    expect(requested).toContain(`/${TINY}/resolve/main/onnx/model_quantized.onnx`);
    await access(path.join(cacheDir, TINY, 'onnx/model_quantized.onnx'));
    const local = new TransformersEmbedder({ model: TINY, dimension: 32, cacheDir: MODELS, allowRemote: false });
    expect(vectors).toEqual(await local.embed(TEXTS));
  }, 60_000);
});
