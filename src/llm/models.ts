import type { ProviderType } from './types.js';

/** The model used when neither the character nor the instance names one. */
export const DEFAULT_MODELS: Record<ProviderType, string> = {
  openai: 'gpt-4o-mini',
  'openai-compatible': 'default',
  anthropic: 'claude-sonnet-4-5',
  ollama: 'llama3.2',
};

/** Known context windows by model-name prefix, longest prefix first; others get the fallback. */
const CONTEXT_WINDOWS: [string, number][] = [
  ['gpt-4.1', 1_000_000],
  ['gpt-4o', 128_000],
  ['gpt-5', 400_000],
  ['o3', 200_000],
  ['o4', 200_000],
  ['gpt-4-turbo', 128_000],
  ['gpt-4', 8_192],
  ['gpt-3.5', 16_385],
  ['claude', 200_000],
  ['llama3.1', 128_000],
  ['llama3.2', 128_000],
  ['llama3', 8_192],
  ['mistral', 32_000],
  ['qwen', 32_000],
  ['gemma', 8_192],
];

export const FALLBACK_CONTEXT_WINDOW = 8_192;

export function contextWindowOf(model: string, configured?: number): number {
  if (configured) return configured;
  const name = model.toLowerCase().replace(/^.*\//, '');
  const match = CONTEXT_WINDOWS.filter(([prefix]) => name.startsWith(prefix)).sort((a, b) => b[0].length - a[0].length)[0];
  return match?.[1] ?? FALLBACK_CONTEXT_WINDOW;
}
