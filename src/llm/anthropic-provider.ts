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
      const { system, messages } = toAnthropicMessages(request.messages, request.names);
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
            ...(system.length ? { system } : {}),
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

type AnthropicImageType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';
type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: { type: 'base64'; media_type: AnthropicImageType; data: string } };
/** A turn's content: text blocks, and with pictures, image blocks (base64) before the text, as Anthropic advises. */
export type AnthropicContent = AnthropicBlock[];

/** Said as the first user turn when the history starts with the character (ST's PROMPT_PLACEHOLDER). */
const ANTHROPIC_PLACEHOLDER = "Let's get started.";

/**
 * SillyTavern's `convertClaudeMessages` (src/prompt-converters.js): the system messages before the first
 * other message are the system prompt; every later system message (dialogue examples after the first
 * non-system one, depth injections, post-history instructions) keeps its place as a user turn — nothing is moved
 * into the system prompt. Names go into the text ("Name: …", example_user / example_assistant becoming the
 * person's and the character's names unless the text starts with them), and neighbours of one role are merged
 * into one turn of several text blocks, which is what the Messages API requires. So post-history instructions end
 * up as the last block of the last user turn, after the history.
 */
function toAnthropicMessages(
  input: ChatMessage[],
  names: { user?: string; char?: string } = {},
): {
  system: { type: 'text'; text: string }[];
  messages: { role: 'user' | 'assistant'; content: AnthropicContent }[];
} {
  const named = (message: ChatMessage) => {
    const speaker =
      message.name === 'example_user'
        ? names.user
        : message.name === 'example_assistant'
          ? names.char
          : message.role === 'system'
            ? undefined
            : message.name;
    return speaker && !message.content.startsWith(`${speaker}: `) ? `${speaker}: ${message.content}` : message.content;
  };
  let first = 0;
  while (first < input.length && input[first]!.role === 'system') first++;
  const system = input.slice(0, first).map((message) => ({ type: 'text' as const, text: named(message) }));
  const messages: { role: 'user' | 'assistant'; content: AnthropicContent }[] = [];
  for (const message of input.slice(first)) {
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const images: AnthropicBlock[] = (role === 'user' ? (message.images ?? []) : []).map((image) => ({
      type: 'image' as const,
      source: { type: 'base64' as const, media_type: image.mimeType as AnthropicImageType, data: image.data },
    }));
    const blocks: AnthropicBlock[] = [...images, { type: 'text' as const, text: named(message) || '\u200b' }];
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  }
  if (messages[0]?.role !== 'user') messages.unshift({ role: 'user', content: [{ type: 'text', text: ANTHROPIC_PLACEHOLDER }] });
  return { system, messages };
}
