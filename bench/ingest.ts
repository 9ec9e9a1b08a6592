/**
 * Ingestion throughput: extract → chunk → embed for a few MB of text, in
 * chunks/s and MB/s, with the hashing embedder; the transformers path with a
 * model of MiniLM-L6's shape and random weights (bench/models/make-bert.ts)
 * in chunks/s and tokens/s, by the clock and per CPU-second, at the real
 * chunk size and at 128 tokens, with one ONNX Runtime thread and with one
 * per core, and with the real MiniLM when it is cached; the Universal
 * Sentence Encoder; and resident memory before and after many embeddings.
 * The machine's load average is reported beside the transformers figures.
 */
import os from 'node:os';
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

/** Load average over the last minute: other work on the machine, reported beside every speed. */
const load = () => +os.loadavg()[0]!.toFixed(1);
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/**
 * Chunks of one size through the transformers path: BERT tokens per second
 * (counted with the model's own tokenizer) by the clock and per CPU-second of
 * the whole process (ONNX Runtime's threads are in it), which other work on a
 * shared machine disturbs much less. `macsPerToken` is the model's
 * multiply-adds per token at this length: its matrix products (6 per layer)
 * and attention (2 × sequence × hidden per layer).
 */
async function measureChunks(embedder: TransformersEmbedder, texts: string[], tokens: number[], config: BertConfig) {
  await embedder.embed(texts.slice(0, 4)); // warm-up: the first run builds ONNX Runtime's kernels
  const loadBefore = load();
  const cpuBefore = cpuSeconds();
  const started = performance.now();
  for (let i = 0; i < texts.length; i += 32) await embedder.embed(texts.slice(i, i + 32));
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds() - cpuBefore;
  const total = tokens.reduce((a, b) => a + b, 0);
  const mean = total / texts.length;
  const { hidden_size: h, intermediate_size: i, num_hidden_layers: layers } = config;
  const macsPerToken = layers * (4 * h * h + 2 * h * i + 2 * mean * h);
  return {
    chunks: texts.length,
    tokensPerChunkMean: Math.round(mean),
    tokensPerChunkMax: Math.max(...tokens),
    embedSeconds: +seconds.toFixed(2),
    cpuSeconds: +cpu.toFixed(2),
    chunksPerSecond: +(texts.length / seconds).toFixed(1),
    tokensPerSecond: Math.round(total / seconds),
    chunksPerCpuSecond: +(texts.length / cpu).toFixed(1),
    tokensPerCpuSecond: Math.round(total / cpu),
    megaMacsPerToken: +(macsPerToken / 1e6).toFixed(1),
    gigaMacsPerCpuSecond: +((macsPerToken * total) / cpu / 1e9).toFixed(1),
    load: [loadBefore, load()],
  };
}

interface BertConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
}

/**
 * The transformers path at the real chunk size and at 128-token chunks (the
 * size of the reference figure), with one ONNX Runtime thread (the
 * embedder's default) and with ONNX Runtime's own default of one per core.
 */
async function measureTransformers(model: string | undefined, cacheDir: string, buffer: Buffer) {
  const { AutoConfig, AutoTokenizer } = await import('@xenova/transformers');
  const id = model ?? 'Xenova/all-MiniLM-L6-v2';
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const config = (await AutoConfig.from_pretrained(id)) as unknown as BertConfig;
  const extracted = await extractText(buffer, { filename: 'bench.md', limits: { maxUnpackedBytes: 1e9 } });
  // 136 of the chunker's tokens make about 128 of BERT's ([CLS] and [SEP] included).
  const sizes = { real: DEFAULT_CHUNKING, tokens128: { maxTokens: 136, overlapTokens: 16 } };
  const results: Record<string, unknown> = { model: id };
  for (const [name, chunking] of Object.entries(sizes)) {
    const texts = chunkDocument(extracted, chunking).map((chunk) => chunk.text);
    // What the model is fed: [CLS] … [SEP], truncated at its 512 positions.
    const tokens = texts.map((text) => Math.min(512, tokenizer.encode(text).length));
    const runs: Record<string, unknown> = { chunking };
    for (const threads of [1, 0]) {
      const embedder = new TransformersEmbedder({ cacheDir, model, allowRemote: false, threads });
      const figures = await measureChunks(embedder, texts, tokens, config);
      runs[threads === 1 ? 'oneThread' : 'threadPerCore'] = figures;
      console.log(`${id} ${name} threads=${threads || 'per core'}:`, JSON.stringify(figures));
    }
    results[name] = runs;
  }
  return results;
}

async function tryTransformers(model: string | undefined, megabytes: number, hint: string): Promise<Record<string, unknown>> {
  const cacheDir = process.env.TRANSFORMERS_CACHE_DIR ?? './models';
  const embedder = new TransformersEmbedder({ cacheDir, model, allowRemote: false });
  try {
    await embedder.load();
  } catch (error) {
    return { skipped: `${(error as Error).message.split('(')[0]!.trim()} ${hint}` };
  }
  return { throughput: await measureTransformers(model, cacheDir, document(megabytes)), memory: await memoryFlat(embedder, 2_000) };
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
