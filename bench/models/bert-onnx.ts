/**
 * Builds a BERT encoder as an ONNX graph with random weights: the
 * architecture of sentence-transformers' all-MiniLM-L6-v2 (6 layers, 384
 * hidden, 12 heads, 1536 intermediate, GELU, post-layer-norm) or any smaller
 * shape, with the inputs and output @xenova/transformers' feature-extraction
 * pipeline expects (input_ids, attention_mask, token_type_ids →
 * last_hidden_state). `quantized` writes what onnxruntime's dynamic
 * quantization makes of the real model (model_quantized.onnx, the file
 * transformers.js loads by default): every weight MatMul becomes
 * DynamicQuantizeLinear → MatMulInteger on int8 weights → rescale.
 * The weights are random, so the vectors mean nothing; the shapes, the
 * operators and so the cost of running it are those of the real model.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Node = InstanceType<typeof onnx.NodeProto>;
type Tensor = InstanceType<typeof onnx.TensorProto>;

export interface BertShape {
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
}

/** all-MiniLM-L6-v2's config.json. */
export const MINILM_L6_SHAPE: BertShape = {
  vocabSize: 30522,
  hiddenSize: 384,
  layers: 6,
  heads: 12,
  intermediateSize: 1536,
  maxPositions: 512,
  typeVocabSize: 2,
};

const { FLOAT, INT8, INT64 } = onnx.TensorProto.DataType;
const { INT, INTS, FLOAT: FLOAT_ATTR } = onnx.AttributeProto.AttributeType;

/** A small deterministic normal generator (mulberry32 + Box–Muller), so a seed makes the same model. */
function normals(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  #count = 0;
  readonly #random: () => number;

  constructor(
    seed: number,
    readonly quantized: boolean,
  ) {
    this.#random = normals(seed);
  }

  op(opType: string, inputs: string[], attributes: Record<string, number | number[]> = {}, outputs = 1): string[] {
    const names = Array.from({ length: outputs }, () => `t${this.#count++}`);
    const attribute = Object.entries(attributes).map(([name, value]) =>
      Array.isArray(value)
        ? { name, type: INTS, ints: value }
        : Number.isInteger(value) && name !== 'epsilon' && name !== 'alpha'
          ? { name, type: INT, i: value }
          : { name, type: FLOAT_ATTR, f: value },
    );
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: names, name: `${opType}_${this.#count}`, attribute }));
    return names;
  }

  one(opType: string, inputs: string[], attributes: Record<string, number | number[]> = {}): string {
    return this.op(opType, inputs, attributes)[0]!;
  }

  floats(name: string, dims: number[], fill: (i: number) => number): string {
    const size = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = fill(i);
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer) }));
    return name;
  }

  random(name: string, dims: number[], std = 0.02): string {
    return this.floats(name, dims, () => this.#random() * std);
  }

  ints(name: string, values: number[], dims: number[] = [values.length]): string {
    const data = new BigInt64Array(values.map(BigInt));
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: INT64, rawData: new Uint8Array(data.buffer) }));
    return name;
  }

  /** x · W + b for a random W [in, out]: a MatMul, or its dynamically quantized form. */
  linear(name: string, x: string, inSize: number, outSize: number): string {
    const bias = this.floats(`${name}.bias`, [outSize], () => 0);
    if (!this.quantized) return this.one('Add', [this.one('MatMul', [x, this.random(`${name}.weight`, [inSize, outSize])]), bias]);
    const weight = this.#quantize([inSize, outSize], `${name}.weight_quantized`);
    const [xq, xScale, xZero] = this.op('DynamicQuantizeLinear', [x], {}, 3) as [string, string, string];
    const product = this.one('MatMulInteger', [xq, weight.name, xZero]);
    const rescaled = this.one('Mul', [this.one('Cast', [product], { to: FLOAT }), this.one('Mul', [xScale, weight.scale])]);
    return this.one('Add', [rescaled, bias]);
  }

  /**
   * A table lookup; quantized, the table is int8 and the rows found are
   * dequantized, as quantize_dynamic does for Gather.
   */
  embedding(name: string, dims: [number, number], ids: string): string {
    if (!this.quantized) return this.one('Gather', [this.random(`${name}.weight`, dims), ids]);
    const q = this.#quantize(dims, `${name}.weight_quantized`);
    const zero = `${name}.weight_zero_point`;
    this.initializers.push(onnx.TensorProto.create({ name: zero, dims: [], dataType: INT8, rawData: new Uint8Array(1) }));
    return this.one('DequantizeLinear', [this.one('Gather', [q.name, ids]), q.scale, zero]);
  }

  /** Random weights as symmetric int8 with one scale (per tensor, as quantize_dynamic makes them). */
  #quantize(dims: number[], name: string): { name: string; scale: string } {
    const weights = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => this.#random() * 0.02);
    const scale = weights.reduce((max, w) => Math.max(max, Math.abs(w)), 0) / 127 || 1;
    const q = Int8Array.from(weights, (w) => Math.max(-127, Math.min(127, Math.round(w / scale))));
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: INT8, rawData: new Uint8Array(q.buffer) }));
    return { name, scale: this.floats(`${name}.scale`, [], () => scale) };
  }

  layerNorm(name: string, x: string, size: number): string {
    const scale = this.floats(`${name}.weight`, [size], () => 1);
    const bias = this.floats(`${name}.bias`, [size], () => 0);
    return this.one('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: 1e-12 });
  }
}

/** The ONNX file's bytes. */
export function buildBertOnnx(shape: BertShape, options: { quantized: boolean; seed?: number }): Uint8Array {
  const { hiddenSize: hidden, heads, intermediateSize } = shape;
  if (hidden % heads !== 0) throw new Error('The hidden size must be a multiple of the number of heads.');
  const headSize = hidden / heads;
  const g = new GraphBuilder(options.seed ?? 42, options.quantized);

  // Embeddings: word + position + token type, then layer norm.
  const words = g.embedding('embeddings.word_embeddings', [shape.vocabSize, hidden], 'input_ids');
  const sequence = g.one('Gather', [g.one('Shape', ['input_ids']), g.ints('one_index', [1], [])], { axis: 0 });
  const positionIds = g.one('Range', [g.ints('zero', [0], []), sequence, g.ints('step', [1], [])]);
  const positions = g.one('Gather', [g.random('embeddings.position_embeddings.weight', [shape.maxPositions, hidden]), positionIds]);
  const types = g.one('Gather', [g.random('embeddings.token_type_embeddings.weight', [shape.typeVocabSize, hidden]), 'token_type_ids']);
  let x = g.layerNorm('embeddings.LayerNorm', g.one('Add', [g.one('Add', [words, positions]), types]), hidden);

  // Padding is masked out of attention: 0 where attended, -10000 where padded, shaped [batch, 1, 1, sequence].
  const mask = g.one('Unsqueeze', [g.one('Cast', ['attention_mask'], { to: FLOAT }), g.ints('mask_axes', [1, 2])]);
  const maskBias = g.one('Mul', [g.one('Sub', [g.floats('one', [], () => 1), mask]), g.floats('mask_value', [], () => -10000)]);
  const splitHeads = g.ints('split_heads', [0, 0, heads, headSize]);
  const mergeHeads = g.ints('merge_heads', [0, 0, hidden]);
  const scale = g.floats('attention_scale', [], () => 1 / Math.sqrt(headSize));

  for (let layer = 0; layer < shape.layers; layer++) {
    const p = `encoder.layer.${layer}`;
    const heads3 = (name: string, perm: number[]) =>
      g.one('Transpose', [g.one('Reshape', [g.linear(`${p}.attention.self.${name}`, x, hidden, hidden), splitHeads])], { perm });
    const query = heads3('query', [0, 2, 1, 3]);
    const key = heads3('key', [0, 2, 3, 1]);
    const value = heads3('value', [0, 2, 1, 3]);
    const scores = g.one('Add', [g.one('Mul', [g.one('MatMul', [query, key]), scale]), maskBias]);
    const context = g.one('MatMul', [g.one('Softmax', [scores], { axis: -1 }), value]);
    const merged = g.one('Reshape', [g.one('Transpose', [context], { perm: [0, 2, 1, 3] }), mergeHeads]);
    const attended = g.linear(`${p}.attention.output.dense`, merged, hidden, hidden);
    x = g.layerNorm(`${p}.attention.output.LayerNorm`, g.one('Add', [attended, x]), hidden);
    // Feed-forward with the exact (erf) GELU, as BERT's "gelu".
    const up = g.linear(`${p}.intermediate.dense`, x, hidden, intermediateSize);
    const erf = g.one('Erf', [g.one('Mul', [up, g.floats(`${p}.inv_sqrt2`, [], () => Math.SQRT1_2)])]);
    const gelu = g.one('Mul', [g.one('Mul', [up, g.floats(`${p}.half`, [], () => 0.5)]), g.one('Add', [erf, 'one'])]);
    const down = g.linear(`${p}.output.dense`, gelu, intermediateSize, hidden);
    x = g.layerNorm(`${p}.output.LayerNorm`, g.one('Add', [down, x]), hidden);
  }
  g.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [x], output: ['last_hidden_state'], name: 'output' }));

  const tokens = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: INT64, shape: { dim: [{ dimParam: 'batch_size' }, { dimParam: 'sequence_length' }] } } },
    });
  const graph = onnx.GraphProto.create({
    name: 'bert',
    node: g.nodes,
    initializer: g.initializers,
    input: [tokens('input_ids'), tokens('attention_mask'), tokens('token_type_ids')],
    output: [
      onnx.ValueInfoProto.create({
        name: 'last_hidden_state',
        type: {
          tensorType: {
            elemType: FLOAT,
            shape: { dim: [{ dimParam: 'batch_size' }, { dimParam: 'sequence_length' }, { dimValue: hidden }] },
          },
        },
      }),
    ],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'dreamchat bench/models',
    opsetImport: [{ domain: '', version: 17 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
