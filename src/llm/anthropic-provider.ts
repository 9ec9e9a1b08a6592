import Anthropic from '@anthropic-ai/sdk';
import { toProviderError, type ProviderLabel } from './errors.js';
import { chatStream, type ChatMessage, type ChatProvider, type ChatRequest, type ChatStream, type ModelInfo } from './types.js';

export interface AnthropicProviderOptions {
  label: ProviderLabel;
  apiKey?: string;
  baseURL?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  maxRetries: number;
  fetch?: typeof fetch;
}

/** Claude through Anthropic's Messages API. */
export class AnthropicProvider implements ChatProvider {
  readonly type = 'anthropic' as const;
  readonly #client: Anthropic;
  readonly #label: ProviderLabel;

  constructor(options: AnthropicProviderOptions) {
    this.#label = options.label;
    this.#client = new Anthropic({
      apiKey: options.apiKey ?? null,
      baseURL: options.baseURL,
      defaultHeaders: options.headers,
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
      fetch: options.fetch,
    });
  }

  /** The current Messages API takes no temperature: the character's temperature is not sent to Claude. */
  stream(request: ChatRequest): ChatStream {
    const client = this.#client;
    const label = this.#label;
    return chatStream(async function* () {
      const { system, messages } = toAnthropicMessages(request.messages);
      let text = '';
      let model = request.model;
      let inputTokens = 0;
      let outputTokens = 0;
      let finishReason: string | undefined;
      try {
        const stream = await client.messages.create(
          {
            model: request.model,
            max_tokens: request.maxTokens ?? 1024,
            ...(system ? { system } : {}),
            messages,
            stream: true,
          },
          { signal: request.signal },
        );
        for await (const event of stream) {
          if (event.type === 'message_start') {
            model = event.message.model || model;
            inputTokens = event.message.usage.input_tokens;
            outputTokens = event.message.usage.output_tokens;
          } else if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
            text += event.delta.text;
            yield event.delta.text;
          } else if (event.type === 'message_delta') {
            outputTokens = event.usage.output_tokens;
            finishReason = event.delta.stop_reason ?? finishReason;
          }
        }
        // The SDK ends the stream quietly when it is aborted: make that an error, not a short reply.
        request.signal?.throwIfAborted();
      } catch (error) {
        throw toProviderError(error, label);
      }
      return { text, model, usage: { inputTokens, outputTokens }, finishReason };
    });
  }

  async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    try {
      const models: ModelInfo[] = [];
      for await (const model of this.#client.models.list({}, { signal })) models.push({ id: model.id });
      return models;
    } catch (error) {
      throw toProviderError(error, this.#label);
    }
  }
}

/** A user turn's content: plain text, or with pictures, image blocks (base64) before the text, as Anthropic advises. */
export type AnthropicContent =
  | string
  | ({ type: 'text'; text: string } | { type: 'image'; source: { type: 'base64'; media_type: AnthropicImageType; data: string } })[];
type AnthropicImageType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

/**
 * Anthropic takes the system prompt apart from the messages, which must
 * alternate user/assistant and start with the user. System lines after the
 * first (post-history instructions) join the system prompt; same-role
 * neighbours are merged; names are already in the content.
 */
export function toAnthropicMessages(input: ChatMessage[]): {
  system: string;
  messages: { role: 'user' | 'assistant'; content: AnthropicContent }[];
} {
  const system: string[] = [];
  const messages: { role: 'user' | 'assistant'; content: string; images: NonNullable<ChatMessage['images']> }[] = [];
  for (const message of input) {
    if (message.role === 'system') {
      system.push(message.content);
      continue;
    }
    const images = message.role === 'user' ? (message.images ?? []) : [];
    const last = messages.at(-1);
    if (last?.role === message.role) {
      last.content += `\n\n${message.content}`;
      last.images.push(...images);
    } else messages.push({ role: message.role, content: message.content, images: [...images] });
  }
  if (messages[0]?.role !== 'user') messages.unshift({ role: 'user', content: '(The conversation begins.)', images: [] });
  return {
    system: system.join('\n\n'),
    messages: messages.map(({ role, content, images }) => ({
      role,
      content: images.length
        ? [
            ...images.map((image) => ({
              type: 'image' as const,
              source: { type: 'base64' as const, media_type: image.mimeType as AnthropicImageType, data: image.data },
            })),
            { type: 'text' as const, text: content },
          ]
        : content,
    })),
  };
}
