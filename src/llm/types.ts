import type { ChatMessage } from '../chat/prompt.js';

export type { ChatMessage };

export const PROVIDER_TYPES = ['openai', 'openai-compatible', 'anthropic', 'ollama'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  signal?: AbortSignal;
  /** Who example_user / example_assistant messages stand for, for vendors without a `name` field. */
  names?: { user?: string; char?: string };
  /** The context size the prompt was built for (Ollama is told it as num_ctx). */
  contextWindow?: number;
}

export interface ChatUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResult {
  text: string;
  model: string;
  usage?: ChatUsage;
  finishReason?: string;
}

/** Text deltas in order; result() resolves once the stream has ended. */
export interface ChatStream extends AsyncIterable<string> {
  result(): Promise<ChatResult>;
}

export interface ModelInfo {
  id: string;
  /** Context window in tokens, when the vendor says. */
  contextWindow?: number;
}

/**
 * One configured LLM endpoint. The responder knows nothing else of the vendor.
 * Implementations build their SDK client once and reuse it.
 */
export interface ChatProvider {
  readonly type: ProviderType;
  stream(request: ChatRequest): ChatStream;
  listModels(signal?: AbortSignal): Promise<ModelInfo[]>;
  /** Embeddings, where the vendor has them. */
  embed?(texts: string[], model: string, signal?: AbortSignal): Promise<number[][]>;
}

/**
 * Wraps an async generator of deltas as a ChatStream. The generator returns
 * the final result; iterating twice is an error.
 */
export function chatStream(run: () => AsyncGenerator<string, ChatResult>): ChatStream {
  let settle!: { resolve: (result: ChatResult) => void; reject: (error: unknown) => void };
  const done = new Promise<ChatResult>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => {});
  let started = false;
  let settled = false;
  return {
    async *[Symbol.asyncIterator]() {
      if (started) throw new Error('A chat stream can be read once.');
      started = true;
      const generator = run();
      try {
        for (;;) {
          const step = await generator.next();
          if (step.done) {
            settled = true;
            settle.resolve(step.value);
            return;
          }
          yield step.value;
        }
      } catch (error) {
        settled = true;
        settle.reject(error);
        throw error;
      } finally {
        if (!settled) settle.reject(new Error('The stream was stopped before it ended.'));
        await generator.return?.(undefined as never);
      }
    },
    result: () => done,
  };
}
