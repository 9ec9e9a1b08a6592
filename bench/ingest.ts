/**
 * Ingestion throughput: extract → chunk → embed for a few MB of text, in
 * chunks/s and MB/s, with the hashing embedder; the transformers path with a
 * model of MiniLM-L6's shape and random weights (bench/models/make-bert.ts)
 * in chunks/s and tokens/s at the real chunk size, and with the real MiniLM
 * when it is cached; the Universal Sentence Encoder; and resident memory
 * before and after many embeddings.
 */
import { HashingEmbedder } from '../src/embeddings/hashing-embedder.js';
import { TransformersEmbedder } from '../src/embeddings/transformers-embedder.js';
import type { Embedder } from '../src/embeddings/embedder.js';
import { UseEmbedder } from '../src/embeddings/use-embedder.js';
import { chunkDocument, DEFAULT_CHUNKING } from '../src/knowledge/chunk.js';
import { extractText } from '../src/knowledge/extract.js';

const SENTENCES = [
  'The harbour town of Veyra wakes before dawn, when the fishing boats slip out past the lighthouse.',
  'Merchants from the southern isles bring saffron, indigo and stories of sea serpents.',
  'The old keeper, Orin, counts the ships every evening and writes their names in a leather book.',
  'In winter the storms close the harbour and the town turns inward, to songs, bread and long tales.',
];

function document(megabytes: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < megabytes * 1024 * 1024; i++) {
    const paragraph = Array.from({ length: 6 }, (_, j) => SENTENCES[(i + j) % SENTENCES.length]).join(' ');
    const text = i % 20 === 0 ? `## Chapter ${i / 20 + 1}\n\n${paragraph}` : paragraph;
    parts.push(text);
    size += text.length + 2;
  }
  return Buffer.from(parts.join('\n\n'));
}

async function measure(embedder: Embedder, buffer: Buffer) {
  const started = performance.now();
  const extracted = await extractText(buffer, { filename: 'bench.md', limits: { maxUnpackedBytes: 1e9 } });
  const chunks = chunkDocument(extracted, { maxTokens: 256, overlapTokens: 32 });
  const chunked = performance.now();
  for (let i = 0; i < chunks.length; i += 32) await embedder.embed(chunks.slice(i, i + 32).map((c) => c.text));
  const seconds = (performance.now() - started) / 1000;
  return {
    megabytes: +(buffer.length / 1024 / 1024).toFixed(2),
    chunks: chunks.length,
    chunkingSeconds: +((chunked - started) / 1000).toFixed(2),
    totalSeconds: +seconds.toFixed(2),
    chunksPerSecond: Math.round(chunks.length / seconds),
    megabytesPerSecond: +(buffer.length / 1024 / 1024 / seconds).toFixed(2),
  };
}

async function memoryFlat(embedder: Embedder, count: number) {
  const texts = Array.from({ length: 64 }, (_, i) => `${SENTENCES[i % 4]} (${i})`);
  global.gc?.();
  const before = process.memoryUsage().rss;
  for (let done = 0; done < count; done += texts.length) await embedder.embed(texts);
  global.gc?.();
  const after = process.memoryUsage().rss;
  return { embeddings: count, rssBeforeMB: Math.round(before / 2 ** 20), rssAfterMB: Math.round(after / 2 ** 20) };
}

/** Real chunks of the default size: BERT tokens per second through the transformers path (tokenized by the model's own tokenizer). */
async function measureTransformers(embedder: TransformersEmbedder, buffer: Buffer) {
  const { AutoTokenizer } = await import('@xenova/transformers');
  const tokenizer = await AutoTokenizer.from_pretrained(embedder.id);
  const extracted = await extractText(buffer, { filename: 'bench.md', limits: { maxUnpackedBytes: 1e9 } });
  const chunks = chunkDocument(extracted);
  // What the model is fed: [CLS] … [SEP], truncated at its 512 positions.
  const tokens = chunks.map((chunk) => Math.min(512, tokenizer.encode(chunk.text).length));
  await embedder.embed(chunks.slice(0, 4).map((c) => c.text)); // warm-up: the first run builds ONNX Runtime's kernels
  const started = performance.now();
  for (let i = 0; i < chunks.length; i += 32) await embedder.embed(chunks.slice(i, i + 32).map((c) => c.text));
  const seconds = (performance.now() - started) / 1000;
  const total = tokens.reduce((a, b) => a + b, 0);
  return {
    model: embedder.id,
    chunking: DEFAULT_CHUNKING,
    chunks: chunks.length,
    tokensPerChunkMean: Math.round(total / chunks.length),
    tokensPerChunkMax: Math.max(...tokens),
    embedSeconds: +seconds.toFixed(2),
    chunksPerSecond: +(chunks.length / seconds).toFixed(1),
    tokensPerSecond: Math.round(total / seconds),
  };
}

async function tryTransformers(model: string | undefined, megabytes: number, hint: string): Promise<Record<string, unknown>> {
  const embedder = new TransformersEmbedder({ cacheDir: process.env.TRANSFORMERS_CACHE_DIR ?? './models', model, allowRemote: false });
  try {
    await embedder.load();
  } catch (error) {
    return { skipped: `${(error as Error).message.split('(')[0]!.trim()} ${hint}` };
  }
  return { throughput: await measureTransformers(embedder, document(megabytes)), memory: await memoryFlat(embedder, 2_000) };
}

export default async function run(args: string[]): Promise<Record<string, unknown>> {
  const megabytes = Number(args[0] ?? 3);
  const buffer = document(megabytes);
  const results: Record<string, unknown> = {
    hashing: { throughput: await measure(new HashingEmbedder(384), buffer), memory: await memoryFlat(new HashingEmbedder(384), 10_000) },
  };
  console.log('hashing:', JSON.stringify(results.hashing));
  // all-MiniLM-L6-v2's architecture and int8 quantization with random weights (bench/models/make-bert.ts): the
  // transformers path's speed, measured offline.
  results.minilmShapedRandom = await tryTransformers(
    'dreamchat/minilm-l6-random',
    0.2,
    'Make it with: npx tsx bench/models/make-bert.ts minilm',
  );
  console.log('minilm-shaped (random weights):', JSON.stringify(results.minilmShapedRandom));
  results.minilm = await tryTransformers(undefined, 0.2, '(the real MiniLM is measured only where it is cached)');
  console.log('minilm:', JSON.stringify(results.minilm));
  const use = new UseEmbedder();
  results.use = { throughput: await measure(use, document(0.02)) };
  console.log('use:', JSON.stringify(results.use));
  return results;
}
