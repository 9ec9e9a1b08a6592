import OpenAI from 'openai';
import { toProviderError, type ProviderLabel } from './errors.js';
import { chatStream, type ChatMessage, type ChatProvider, type ChatRequest, type ChatStream, type ModelInfo } from './types.js';

export interface OpenAIProviderOptions {
  /** 'openai' for api.openai.com, 'openai-compatible' for any server speaking its API. */
  type: 'openai' | 'openai-compatible';
  label: ProviderLabel;
  apiKey?: string;
  baseURL?: string;
  organization?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  maxRetries: number;
  fetch?: typeof fetch;
}

/** OpenAI and every server that speaks its chat completions API (OpenRouter, LM Studio, vLLM, llama.cpp, Groq…). */
export class OpenAIProvider implements ChatProvider {
  readonly type: 'openai' | 'openai-compatible';
  readonly #client: OpenAI;
  readonly #label: ProviderLabel;

  constructor(options: OpenAIProviderOptions) {
    this.type = options.type;
    this.#label = options.label;
    this.#client = new OpenAI({
      // Local servers often need no key, but the SDK insists on one.
      apiKey: options.apiKey || 'none',
      baseURL: options.baseURL,
      organization: options.organization,
      defaultHeaders: options.headers,
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
      fetch: options.fetch,
    });
  }

  stream(request: ChatRequest): ChatStream {
    const client = this.#client;
    const label = this.#label;
    const type = this.type;
    return chatStream(async function* () {
      let text = '';
      let model = request.model;
      let usage: { inputTokens: number; outputTokens: number } | undefined;
      let finishReason: string | undefined;
      try {
        const stream = await client.chat.completions.create(
          {
            model: request.model,
            messages: request.messages.map(toOpenAIMessage),
            temperature: request.temperature,
            // api.openai.com's newer models take max_completion_tokens; compatible servers know max_tokens.
            ...(type === 'openai' ? { max_completion_tokens: request.maxTokens } : { max_tokens: request.maxTokens }),
            stream: true,
            stream_options: { include_usage: true },
          },
          { signal: request.signal },
        );
        for await (const chunk of stream) {
          model = chunk.model || model;
          if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
          const choice = chunk.choices[0];
          if (choice?.finish_reason) finishReason = choice.finish_reason;
          const delta = choice?.delta?.content;
          if (delta) {
            text += delta;
            yield delta;
          }
        }
        // The SDK ends the stream quietly when it is aborted: make that an error, not a short reply.
        request.signal?.throwIfAborted();
      } catch (error) {
        throw toProviderError(error, label);
      }
      return { text, model, usage, finishReason };
    });
  }

  async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    try {
      const models: ModelInfo[] = [];
      for await (const model of this.#client.models.list({ signal })) {
        const window =
          (model as { context_length?: number; context_window?: number }).context_length ??
          (model as { context_window?: number }).context_window;
        models.push({ id: model.id, contextWindow: window });
      }
      return models.sort((a, b) => a.id.localeCompare(b.id));
    } catch (error) {
      throw toProviderError(error, this.#label);
    }
  }

  async embed(texts: string[], model: string, signal?: AbortSignal): Promise<number[][]> {
    try {
      const response = await this.#client.embeddings.create({ model, input: texts, encoding_format: 'float' }, { signal });
      return response.data.sort((a, b) => a.index - b.index).map((item) => item.embedding);
    } catch (error) {
      throw toProviderError(error, this.#label);
    }
  }
}

type OpenAIMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** A chat message in OpenAI's shape: pictures become `image_url` content parts with a data URL, after the text. */
function toOpenAIMessage(message: ChatMessage): OpenAIMessage {
  const { images, ...rest } = message;
  if (!images?.length || message.role !== 'user') return rest as OpenAIMessage;
  return {
    ...rest,
    role: 'user',
    content: [
      { type: 'text', text: message.content },
      ...images.map((image) => ({ type: 'image_url' as const, image_url: { url: `data:${image.mimeType};base64,${image.data}` } })),
    ],
  };
}
