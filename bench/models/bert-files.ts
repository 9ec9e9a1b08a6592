/**
 * The files beside a BERT model that @xenova/transformers reads: config.json,
 * tokenizer.json (a WordPiece tokenizer in the Hugging Face tokenizers
 * format), tokenizer_config.json and vocab.txt. The vocabulary is built
 * here, offline: BERT's special tokens at BERT's ids ([PAD] 0, [UNK] 100,
 * [CLS] 101, [SEP] 102, [MASK] 103), single characters, then English words
 * and word pieces taken in frequency order from GPT-2's byte-pair vocabulary
 * (shipped in the gpt-tokenizer package): a word-then-subword vocabulary like
 * bert-base-uncased's, so English text splits into about as many tokens.
 */
import { decode } from 'gpt-tokenizer/encoding/r50k_base';
import type { BertShape } from './bert-onnx.js';

const GPT2_VOCAB_SIZE = 50257;

function buildVocabulary(size: number): string[] {
  const vocab = ['[PAD]', ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const seen = new Set(vocab);
  const add = (token: string) => {
    if (vocab.length < size && !seen.has(token)) {
      seen.add(token);
      vocab.push(token);
    }
  };
  const chars = [...'abcdefghijklmnopqrstuvwxyz0123456789', ...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
  for (const char of chars) add(char);
  for (const char of 'abcdefghijklmnopqrstuvwxyz0123456789') add(`##${char}`);
  for (let rank = 0; rank < GPT2_VOCAB_SIZE && vocab.length < size; rank++) {
    const piece = decode([rank]);
    const match = /^( ?)([a-zA-Z]+|[0-9]+)$/.exec(piece);
    if (!match) continue;
    const text = match[2]!.toLowerCase();
    add(match[1] ? text : `##${text}`);
  }
  for (let i = 0; vocab.length < size; i++) add(`[unused${99 + i}]`);
  return vocab;
}

export function bertFiles(shape: BertShape, name: string): Record<string, string> {
  const vocab = buildVocabulary(shape.vocabSize);
  const special = (content: string) => ({
    id: vocab.indexOf(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((token) => [token, { id: token, ids: [vocab.indexOf(token)], tokens: [token] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((token, id) => [token, id])),
    },
  };
  const config = {
    _name_or_path: name,
    architectures: ['BertModel'],
    model_type: 'bert',
    vocab_size: shape.vocabSize,
    hidden_size: shape.hiddenSize,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.intermediateSize,
    hidden_act: 'gelu',
    max_position_embeddings: shape.maxPositions,
    type_vocab_size: shape.typeVocabSize,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
  };
  const tokenizerConfig = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    do_basic_tokenize: true,
    model_max_length: shape.maxPositions,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    clean_up_tokenization_spaces: true,
  };
  return {
    'config.json': `${JSON.stringify(config, null, 2)}\n`,
    'tokenizer.json': `${JSON.stringify(tokenizer)}\n`,
    'tokenizer_config.json': `${JSON.stringify(tokenizerConfig, null, 2)}\n`,
    'vocab.txt': `${vocab.join('\n')}\n`,
  };
}
