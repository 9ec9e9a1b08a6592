/**
 * Writes a BERT sentence-embedding model with random weights where
 * @xenova/transformers looks for a local model:
 *
 *   npx tsx bench/models/make-bert.ts [minilm|tiny] [directory] [name]
 *
 * `minilm` (default) has all-MiniLM-L6-v2's exact shapes and writes
 * `./models/dreamchat/minilm-l6-random` (about 90 MB fp32 + 23 MB int8; not
 * committed): the bench measures the transformers path with it. `tiny`
 * (2 layers, 32 hidden, 4 heads, 1,000 tokens) is committed under
 * test/fixtures/models for the tests. Both have onnx/model.onnx and
 * onnx/model_quantized.onnx (what transformers.js loads by default).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bertFiles } from './bert-files.js';
import { buildBertOnnx, MINILM_L6_SHAPE, type BertShape } from './bert-onnx.js';

export const TINY_SHAPE: BertShape = {
  vocabSize: 1000,
  hiddenSize: 32,
  layers: 2,
  heads: 4,
  intermediateSize: 64,
  maxPositions: 128,
  typeVocabSize: 2,
};

export async function writeBertModel(directory: string, shape: BertShape): Promise<void> {
  await mkdir(path.join(directory, 'onnx'), { recursive: true });
  for (const [file, text] of Object.entries(bertFiles(shape, path.basename(directory)))) await writeFile(path.join(directory, file), text);
  await writeFile(path.join(directory, 'onnx/model.onnx'), buildBertOnnx(shape, { quantized: false }));
  await writeFile(path.join(directory, 'onnx/model_quantized.onnx'), buildBertOnnx(shape, { quantized: true }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [size = 'minilm', root, name] = process.argv.slice(2);
  const tiny = size === 'tiny';
  const directory = path.join(
    root ?? (tiny ? 'test/fixtures/models' : 'models'),
    name ?? (tiny ? 'dreamchat/tiny-bert-random' : 'dreamchat/minilm-l6-random'),
  );
  await writeBertModel(directory, tiny ? TINY_SHAPE : MINILM_L6_SHAPE);
  console.log(`Wrote ${directory}`);
}
