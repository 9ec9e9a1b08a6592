import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProvider, type ProviderConfig } from '../../src/llm/create-provider.js';
import { ProviderError } from '../../src/llm/errors.js';
import type { ChatProvider, ProviderType } from '../../src/llm/types.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeAnthropic } from '../fakes-llm/anthropic.js';
import { startFakeOllama } from '../fakes-llm/ollama.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';

const vendors: { type: ProviderType; start: () => Promise<FakeServer>; model: string; chatPath: string }[] = [
  { type: 'openai', start: startFakeOpenAI, model: 'gpt-4o-mini', chatPath: '/v1/chat/completions' },
  { type: 'anthropic', start: startFakeAnthropic, model: 'claude-sonnet-4-5', chatPath: '/v1/messages' },
  { type: 'ollama', start: startFakeOllama, model: 'llama3.2:3b', chatPath: '/api/chat' },
];

const messages = [
  { role: 'system' as const, content: 'You are Aria.' },
  { role: 'user' as const, content: 'Ione: hello', name: 'Ione' },
];

async function collect(provider: ChatProvider, request: Partial<Parameters<ChatProvider['stream']>[0]> = {}) {
  const deltas: string[] = [];
  const stream = provider.stream({ model: 'm', messages, maxTokens: 64, ...request });
  for await (const delta of stream) deltas.push(delta);
  return { deltas, result: await stream.result() };
}

for (const vendor of vendors) {
  describe(`${vendor.type} provider over the real SDK`, () => {
    let fake: FakeServer;
    let provider: ChatProvider;
    const make = (config: ProviderConfig = {}) =>
      createProvider({
        type: vendor.type,
        name: 'Test',
        config: { baseUrl: fake.url, apiKey: 'sk-test-1234567890', timeoutMs: 2000, maxRetries: 1, ...config },
        policy: { allowPrivate: true },
      });

    beforeAll(async () => {
      fake = await vendor.start();
      provider = make();
    });
    afterAll(() => fake.close());
    beforeEach(() => {
      fake.reset();
    });

    it('streams text deltas in order and records usage and model', async () => {
      fake.next({ chunks: ['Well ', 'met, ', 'traveller!'], usage: { input: 17, output: 3 } });
      const { deltas, result } = await collect(provider, { model: vendor.model });
      expect(deltas).toEqual(['Well ', 'met, ', 'traveller!']);
      expect(result).toMatchObject({ text: 'Well met, traveller!', model: vendor.model, usage: { inputTokens: 17, outputTokens: 3 } });
      const request = fake.requests.at(-1)!;
      expect(request.path).toBe(vendor.chatPath);
      expect(request.body.model).toBe(vendor.model);
    });

    it('stops the stream and closes the connection when aborted', async () => {
      fake.next({ chunks: Array.from({ length: 50 }, (_, i) => `w${i} `), chunkDelayMs: 30 });
      const controller = new AbortController();
      const stream = provider.stream({ model: vendor.model, messages, signal: controller.signal });
      const seen: string[] = [];
      await expect(
        (async () => {
          for await (const delta of stream) {
            seen.push(delta);
            if (seen.length === 3) controller.abort();
          }
        })(),
      ).rejects.toMatchObject({ kind: 'aborted' });
      expect(seen.length).toBeLessThan(10);
      await expect.poll(() => fake.abortedResponses, { timeout: 3000 }).toBeGreaterThan(0);
    });

    it('maps a rejected key (401) to a plain message', async () => {
      fake.next({ status: 401, message: 'invalid api key' });
      const error = await collect(provider).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ kind: 'auth', status: 401 });
      expect((error as ProviderError).userMessage).toMatch(/rejected the API key/);
    });

    it('maps an unknown model (404), a context overflow (400) and a server error (500)', async () => {
      fake.next({ status: 404, message: 'model not found' });
      expect(await collect(provider).catch((e: unknown) => e)).toMatchObject({ kind: 'model_not_found' });
      fake.next({ status: 400, message: 'This model maximum context length is 8192 tokens' });
      expect(await collect(provider).catch((e: unknown) => e)).toMatchObject({ kind: 'context_too_long' });
      fake.next({ status: 500, message: 'boom' });
      expect(await collect(make({ maxRetries: 0 })).catch((e: unknown) => e)).toMatchObject({ kind: 'server' });
    });

    it('times out a server that never answers', async () => {
      const slow = make({ timeoutMs: 1000, maxRetries: 0 });
      fake.next({ hang: true });
      expect(await collect(slow).catch((e: unknown) => e)).toMatchObject({ kind: 'timeout' });
    });

    it('lists models', async () => {
      const models = await provider.listModels();
      expect(models.length).toBeGreaterThan(0);
      expect(models.map((m) => m.id)).toContain(vendor.model);
    });
  });
}

describe('retries and connection failures', () => {
  it('honours retry-after on 429 and succeeds on the next try (OpenAI SDK)', async () => {
    const fake = await startFakeOpenAI();
    try {
      fake.next({ status: 429, message: 'slow down', headers: { 'retry-after': '1' } }, { text: 'ok now' });
      const provider = createProvider({
        type: 'openai',
        name: 'Test',
        config: { baseUrl: fake.url, apiKey: 'sk-x', maxRetries: 2, timeoutMs: 5000 },
        policy: { allowPrivate: true },
      });
      const { result } = await collect(provider);
      expect(result.text).toBe('ok now');
      const [first, second] = fake.requests.filter((r) => r.path === '/v1/chat/completions');
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    } finally {
      await fake.close();
    }
  });

  it('reports a 429 it cannot wait out with the wait time', async () => {
    const fake = await startFakeOpenAI();
    try {
      fake.next({ status: 429, message: 'rate limited', headers: { 'retry-after': '30' } });
      const provider = createProvider({
        type: 'openai',
        name: 'Test',
        config: { baseUrl: fake.url, apiKey: 'sk-x', maxRetries: 0 },
        policy: { allowPrivate: true },
      });
      const error = (await collect(provider).catch((e: unknown) => e)) as ProviderError;
      expect(error).toMatchObject({ kind: 'rate_limit', retryAfterMs: 30_000 });
      expect(error.userMessage).toMatch(/Try again in 30 s/);
    } finally {
      await fake.close();
    }
  });

  it('does not retry once text has streamed: a broken stream is an error, not a second reply', async () => {
    const fake = await startFakeOllama();
    try {
      fake.next({ chunks: ['partial ', 'reply ', 'never ', 'ends'], stallAfter: 2 });
      const provider = createProvider({
        type: 'ollama',
        name: 'Local',
        config: { baseUrl: fake.url, timeoutMs: 800 },
        policy: { allowPrivate: true },
      });
      const seen: string[] = [];
      const stream = provider.stream({ model: 'llama3.2:3b', messages });
      const error = await (async () => {
        for await (const delta of stream) seen.push(delta);
      })().catch((e: unknown) => e);
      expect(seen).toEqual(['partial ', 'reply ']);
      expect(error).toMatchObject({ kind: 'timeout' });
      expect(fake.requests.filter((r) => r.path === '/api/chat')).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('says the connection was refused when nothing listens', async () => {
    const provider = createProvider({
      type: 'ollama',
      name: 'Local',
      config: { baseUrl: 'http://127.0.0.1:1', timeoutMs: 2000 },
      policy: { allowPrivate: true },
    });
    expect(await collect(provider).catch((e: unknown) => e)).toMatchObject({ kind: 'connection_refused' });
  });

  it('embeds through OpenAI-compatible and Ollama endpoints', async () => {
    const openai = await startFakeOpenAI();
    const ollama = await startFakeOllama();
    try {
      const a = createProvider({ type: 'openai-compatible', name: 'A', config: { baseUrl: openai.url }, policy: { allowPrivate: true } });
      expect(await a.embed!(['ab', 'abcd'], 'text-embedding-3-small')).toEqual([
        [2, 0, 1],
        [4, 1, 1],
      ]);
      const b = createProvider({ type: 'ollama', name: 'B', config: { baseUrl: ollama.url }, policy: { allowPrivate: true } });
      expect(await b.embed!(['abc'], 'nomic-embed-text')).toEqual([[3, 2, 3]]);
    } finally {
      await openai.close();
      await ollama.close();
    }
  });
});
