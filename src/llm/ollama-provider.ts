import { Ollama, type AbortableAsyncIterator, type ChatResponse } from 'ollama';
import { toProviderError, type ProviderLabel } from './errors.js';
import { chatStream, type ChatProvider, type ChatRequest, type ChatStream, type ModelInfo } from './types.js';

export interface OllamaProviderOptions {
  label: ProviderLabel;
  host: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** A local or remote Ollama server. */
export class OllamaProvider implements ChatProvider {
  readonly type = 'ollama' as const;
  readonly #client: Ollama;
  readonly #label: ProviderLabel;
  readonly #timeoutMs: number;

  constructor(options: OllamaProviderOptions) {
    this.#label = options.label;
    this.#timeoutMs = options.timeoutMs;
    const base = options.fetch ?? fetch;
    // The ollama client takes no timeout: each request gets one until its response starts.
    const timed: typeof fetch = async (input, init) => {
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new DOMException('timed out', 'TimeoutError')), options.timeoutMs);
      try {
        const signal = init?.signal ? AbortSignal.any([init.signal, timeout.signal]) : timeout.signal;
        return await base(input, { ...init, signal });
      } finally {
        clearTimeout(timer);
      }
    };
    this.#client = new Ollama({ host: options.host, headers: options.headers, fetch: timed });
  }

  stream(request: ChatRequest): ChatStream {
    const client = this.#client;
    const label = this.#label;
    const timeoutMs = this.#timeoutMs;
    return chatStream(async function* () {
      let text = '';
      let model = request.model;
      let usage: { inputTokens: number; outputTokens: number } | undefined;
      let finishReason: string | undefined;
      // Between chunks, a stalled stream is aborted by this timer; the caller's signal aborts it too.
      let iterator: AbortableAsyncIterator<ChatResponse> | undefined;
      const abort = () => iterator?.abort();
      request.signal?.addEventListener('abort', abort, { once: true });
      let timer = setTimeout(abort, timeoutMs);
      try {
        iterator = await client.chat({
          model: request.model,
          // System messages stay where the prompt put them (Ollama's chat templates take them anywhere).
          messages: request.messages.map(({ role, content, images }) => ({
            role,
            content,
            ...(images?.length ? { images: images.map((image) => image.data) } : {}),
          })),
          stream: true,
          options: {
            temperature: request.temperature,
            num_predict: request.maxTokens,
            ...(request.contextWindow ? { num_ctx: request.contextWindow } : {}),
          },
        });
        if (request.signal?.aborted) iterator.abort();
        for await (const chunk of iterator) {
          clearTimeout(timer);
          timer = setTimeout(abort, timeoutMs);
          model = chunk.model || model;
          if (chunk.message?.content) {
            text += chunk.message.content;
            yield chunk.message.content;
          }
          if (chunk.done) {
            usage = { inputTokens: chunk.prompt_eval_count ?? 0, outputTokens: chunk.eval_count ?? 0 };
            finishReason = chunk.done_reason;
          }
        }
      } catch (error) {
        throw toProviderError(timedOut(error, request.signal), label);
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', abort);
        iterator?.abort();
      }
      return { text, model, usage, finishReason };
    });
  }

  async listModels(): Promise<ModelInfo[]> {
    try {
      const { models } = await this.#client.list();
      return models.map((model) => ({ id: model.name })).sort((a, b) => a.id.localeCompare(b.id));
    } catch (error) {
      throw toProviderError(error, this.#label);
    }
  }

  async embed(texts: string[], model: string): Promise<number[][]> {
    try {
      const { embeddings } = await this.#client.embed({ model, input: texts });
      return embeddings;
    } catch (error) {
      throw toProviderError(error, this.#label);
    }
  }
}

/** An abort we caused by a timer is a timeout, not a user's stop. */
function timedOut(error: unknown, signal?: AbortSignal): unknown {
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError') && !signal?.aborted) {
    return Object.assign(new Error('Ollama did not answer in time'), { name: 'TimeoutError' });
  }
  return error;
}
