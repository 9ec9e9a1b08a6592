import type { ProviderType } from './types.js';

/** The model used when neither the character nor the instance names one. */
export const DEFAULT_MODELS: Record<ProviderType, string> = {
  openai: 'gpt-4o-mini',
  'openai-compatible': 'default',
  anthropic: 'claude-sonnet-4-5',
  ollama: 'llama3.2',
};

/**
 * Known context windows by model-name prefix (the longest matching prefix wins; a vendor prefix such as
 * "openai/" or "anthropic." is ignored). Figures are the vendors' published limits.
 */
const CONTEXT_WINDOWS: [string, number][] = [
  ['gpt-4.1', 1_047_576],
  ['gpt-4o', 128_000],
  ['gpt-4-turbo', 128_000],
  ['gpt-4', 8_192],
  ['gpt-3.5', 16_385],
  ['gpt-5', 400_000],
  ['o1', 200_000],
  ['o3', 200_000],
  ['o4', 200_000],
  ['chatgpt-4o', 128_000],
  ['claude', 200_000],
  ['gemini', 1_048_576],
  ['gemma3', 128_000],
  ['gemma-3', 128_000],
  ['gemma', 8_192],
  ['llama-3.1', 128_000],
  ['llama-3.2', 128_000],
  ['llama-3.3', 128_000],
  ['llama3.1', 128_000],
  ['llama3.2', 128_000],
  ['llama3.3', 128_000],
  ['llama-4', 1_000_000],
  ['llama4', 1_000_000],
  ['llama3', 8_192],
  ['llama-3', 8_192],
  ['mistral-large', 128_000],
  ['mistral-small', 32_000],
  ['mistral-nemo', 128_000],
  ['mistral', 32_000],
  ['mixtral', 32_000],
  ['qwen3', 40_960],
  ['qwen2.5', 32_768],
  ['qwen', 32_000],
  ['deepseek', 128_000],
  ['phi3', 128_000],
  ['phi-3', 128_000],
  ['phi4', 16_384],
  ['command-r', 128_000],
  ['grok', 131_072],
];

const FALLBACK_CONTEXT_WINDOW = 8_192;

/**
 * Ollama runs a model with the context the request asks for (options.num_ctx, which the Ollama provider sends)
 * or its own small default; asking for a model's full published window can exhaust a machine's memory, so an
 * Ollama model gets this unless someone sets a size.
 */
const OLLAMA_CONTEXT_WINDOW = 8_192;

/** A model's known context window (by family), or the fallback. */
function knownContextWindow(model: string): number {
  const name = model
    .toLowerCase()
    .replace(/^.*[/]/, '')
    .replace(/^(anthropic|openai|meta|mistralai|google)\./, '');
  const match = CONTEXT_WINDOWS.filter(([prefix]) => name.startsWith(prefix)).sort((a, b) => b[0].length - a[0].length)[0];
  return match?.[1] ?? FALLBACK_CONTEXT_WINDOW;
}

/**
 * The context window a reply is built for, the most specific setting first: the character's own
 * (/character edit context), the provider instance's (/provider models … context), the operator's
 * CONTEXT_WINDOW, then the model family's known window (for Ollama, OLLAMA_CONTEXT_WINDOW).
 */
export function contextWindowOf(
  model: string,
  settings: { character?: number; provider?: number; operator?: number; type?: ProviderType } = {},
): number {
  const set = [settings.character, settings.provider, settings.operator].find((value) => typeof value === 'number' && value > 0);
  if (set) return set;
  return settings.type === 'ollama' ? OLLAMA_CONTEXT_WINDOW : knownContextWindow(model);
}
