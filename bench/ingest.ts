/**
 * Ingestion throughput: extract → chunk → embed for a few MB of text, in
 * chunks/s and MB/s, with the hashing embedder and, when its model is cached,
 * the local MiniLM; and resident memory before and after 10k embeddings.
 */
import { HashingEmbedder } from '../src/embeddings/hashing-embedder.js';
import { TransformersEmbedder } from '../src/embeddings/transformers-embedder.js';
import type { Embedder } from '../src/embeddings/embedder.js';
import { chunkDocument } from '../src/knowledge/chunk.js';
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

export default async function run(args: string[]): Promise<Record<string, unknown>> {
  const megabytes = Number(args[0] ?? 3);
  const buffer = document(megabytes);
  const results: Record<string, unknown> = {
    hashing: { throughput: await measure(new HashingEmbedder(384), buffer), memory: await memoryFlat(new HashingEmbedder(384), 10_000) },
  };
  console.log('hashing:', JSON.stringify(results.hashing));
  const local = new TransformersEmbedder({
    cacheDir: process.env.TRANSFORMERS_CACHE_DIR ?? './models',
    allowRemote: false,
  });
  try {
    await local.load();
    results.minilm = { throughput: await measure(local, document(0.5)), memory: await memoryFlat(local, 10_000) };
  } catch (error) {
    results.minilm = { skipped: `no cached model: ${(error as Error).message.split('(')[0]!.trim()}` };
  }
  console.log('minilm:', JSON.stringify(results.minilm));
  return results;
}
