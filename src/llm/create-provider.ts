import { z } from 'zod';
import { AnthropicProvider } from './anthropic-provider.js';
import { checkEndpointUrl, guardedFetch, type EndpointPolicy } from './endpoint-guard.js';
import { OllamaProvider } from './ollama-provider.js';
import { OpenAIProvider } from './openai-provider.js';
import type { ChatProvider, ProviderType } from './types.js';

/** The config JSON of an llm_provider_instances row. `apiKey` is stored encrypted (see secrets.ts). */
export const providerConfigSchema = z.object({
  baseUrl: z.string().url().optional(),
  /** The model used when a character names none. */
  model: z.string().trim().min(1).max(200).optional(),
  /** Context window of the default model, in tokens, when the vendor does not say. */
  contextWindow: z.number().int().min(512).max(10_000_000).optional(),
  timeoutMs: z.number().int().min(1000).max(600_000).optional(),
  maxRetries: z.number().int().min(0).max(5).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  apiKey: z.string().optional(),
  organization: z.string().optional(),
  embeddingModel: z.string().optional(),
  /** Whether its models take images: set by /provider images; unset, known model families decide. */
  vision: z.boolean().optional(),
  /** System instances made from the environment keep their key there, not in the database. */
  envKey: z.enum(['openai', 'anthropic']).optional(),
});
export type ProviderConfig = z.infer<typeof providerConfigSchema>;

const DEFAULT_BASE_URLS: Record<ProviderType, string | undefined> = {
  openai: 'https://api.openai.com/v1',
  'openai-compatible': undefined,
  anthropic: 'https://api.anthropic.com',
  ollama: 'http://127.0.0.1:11434',
};

export const VENDOR_NAMES: Record<ProviderType, string> = {
  openai: 'OpenAI',
  'openai-compatible': 'The OpenAI-compatible server',
  anthropic: 'Anthropic',
  ollama: 'Ollama',
};

/**
 * Builds the SDK-backed provider for one instance. The SDK client is made here,
 * once per instance, and reused for every message. `apiKey` must be the plain
 * key (decrypted by the caller).
 */
export function createProvider(input: { type: ProviderType; name: string; config: ProviderConfig; policy: EndpointPolicy }): ChatProvider {
  const { type, config, policy } = input;
  const baseUrl = config.baseUrl ?? DEFAULT_BASE_URLS[type];
  if (!baseUrl) throw new Error(`A ${type} provider needs an endpoint URL.`);
  checkEndpointUrl(baseUrl, policy);
  // The key (and any header value, such as a bearer token) is wiped from error messages a server echoes it in.
  const secrets = [config.apiKey, ...Object.values(config.headers ?? {})].filter((value): value is string => Boolean(value));
  const label = { vendor: VENDOR_NAMES[type], name: input.name, secrets };
  const common = {
    label,
    headers: config.headers,
    timeoutMs: config.timeoutMs ?? 60_000,
    fetch: guardedFetch(policy),
  };
  switch (type) {
    case 'openai':
    case 'openai-compatible':
      return new OpenAIProvider({
        ...common,
        type,
        apiKey: config.apiKey,
        baseURL: baseUrl,
        organization: config.organization,
        maxRetries: config.maxRetries ?? 2,
      });
    case 'anthropic':
      return new AnthropicProvider({ ...common, apiKey: config.apiKey, baseURL: baseUrl, maxRetries: config.maxRetries ?? 2 });
    case 'ollama':
      return new OllamaProvider({ ...common, host: baseUrl });
  }
}
