import { APIError as AnthropicAPIError, APIConnectionTimeoutError as AnthropicTimeout } from '@anthropic-ai/sdk';
import { APIError as OpenAIAPIError, APIConnectionTimeoutError as OpenAITimeout, APIUserAbortError } from 'openai';
import { maskKey } from './secrets.js';

export type ProviderErrorKind =
  | 'auth'
  | 'rate_limit'
  | 'quota'
  | 'model_not_found'
  | 'context_too_long'
  | 'timeout'
  | 'connection_refused'
  | 'bad_request'
  | 'server'
  | 'aborted'
  | 'blocked_endpoint';

/** A provider failure, sorted into what a person can understand and act on. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly kind: ProviderErrorKind,
    /** Plain words for the person who asked. */
    readonly userMessage: string,
    options: { cause?: unknown; status?: number; retryAfterMs?: number } = {},
  ) {
    super(`${kind}: ${userMessage}`, { cause: options.cause });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
  readonly status?: number;
  readonly retryAfterMs?: number;
}

/** Which instance failed, for the message ("the OpenAI key “Server key”"). */
export interface ProviderLabel {
  vendor: string;
  name: string;
  /** The instance's key and header values: a server that echoes them in an error must not get them into logs or replies. */
  secrets?: string[];
}

/** Turns any error from an SDK call into a ProviderError with a plain-words message. */
export function toProviderError(error: unknown, label: ProviderLabel): ProviderError {
  const known = causes(error).find((e): e is ProviderError => e instanceof ProviderError);
  if (known) return known;
  redactSecrets(error, label.secrets ?? []);
  const who = `${label.vendor} (“${label.name}”)`;
  if (error instanceof OpenAITimeout || error instanceof AnthropicTimeout || isTimeout(error)) {
    return new ProviderError('timeout', `${who} did not answer in time. Try again in a moment.`, { cause: error });
  }
  // After the timeout check: an SDK's own timeout is an abort underneath.
  if (error instanceof APIUserAbortError || isAbort(error)) {
    return new ProviderError('aborted', 'The reply was stopped.', { cause: error });
  }
  const status = statusOf(error);
  const detail = detailOf(error).toLowerCase();
  if (status === undefined) {
    if (isConnectionRefused(error)) {
      return new ProviderError(
        'connection_refused',
        `Could not reach ${who}: the connection was refused. Is the server running, and is the endpoint right?`,
        { cause: error },
      );
    }
    return new ProviderError('connection_refused', `Could not reach ${who}. Check the endpoint with /provider test.`, { cause: error });
  }
  if (status === 401 || status === 403) {
    return new ProviderError('auth', `${who} rejected the API key (${status}). Update it with /provider add.`, { cause: error, status });
  }
  if (status === 429) {
    const retryAfterMs = retryAfterOf(error);
    if (/quota|billing|credit|insufficient/.test(detail)) {
      return new ProviderError('quota', `${who} says the account is out of quota or credit.`, { cause: error, status });
    }
    const wait = retryAfterMs ? ` Try again in ${Math.ceil(retryAfterMs / 1000)} s.` : ' Try again shortly.';
    return new ProviderError('rate_limit', `${who} is rate-limiting requests.${wait}`, { cause: error, status, retryAfterMs });
  }
  if (/context|too long|maximum.*tokens|token limit|prompt is too long/.test(detail) && status < 500) {
    return new ProviderError('context_too_long', `The conversation is too long for this model's context window.`, { cause: error, status });
  }
  if (status === 404 || /model.*(not found|does not exist)|unknown model/.test(detail)) {
    return new ProviderError('model_not_found', `${who} does not have that model. Pick one with /provider models.`, {
      cause: error,
      status,
    });
  }
  if (status >= 500) {
    return new ProviderError('server', `${who} had a server error (${status}). Try again in a moment.`, { cause: error, status });
  }
  return new ProviderError('bad_request', `${who} refused the request (${status}): ${detailOf(error).slice(0, 200)}`, {
    cause: error,
    status,
  });
}

/**
 * Replaces the instance's secrets, in place, wherever an SDK error carries the server's words: the message, the
 * stack (its first line repeats the message) and the parsed error body, along the cause chain. Short values (a
 * placeholder key such as "none") are left alone.
 */
function redactSecrets(error: unknown, secrets: string[]): void {
  const wanted = secrets.map((secret) => secret.trim()).filter((secret) => secret.length >= 8);
  if (!wanted.length) return;
  const clean = (text: string) => wanted.reduce((out, secret) => out.split(secret).join(maskKey(secret)), text);
  const holds = (text: string | undefined) => Boolean(text) && wanted.some((secret) => text!.includes(secret));
  for (const current of causes(error)) {
    if (!(current instanceof Error)) continue;
    const target = current as Error & { error?: unknown };
    const body = target.error === undefined || target.error === null ? undefined : JSON.stringify(target.error);
    try {
      if (holds(target.message)) target.message = clean(target.message);
      if (holds(target.stack)) target.stack = clean(target.stack!);
      if (holds(body)) target.error = JSON.parse(clean(body!)) as unknown;
    } catch {
      // A read-only message (a DOMException's): such errors come from the client, not from the server's words.
    }
  }
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof OpenAIAPIError || error instanceof AnthropicAPIError) return error.status ?? undefined;
  if (isOllamaError(error)) return error.status_code;
  return undefined;
}

function detailOf(error: unknown): string {
  if (isOllamaError(error)) return error.error;
  return error instanceof Error ? error.message : String(error);
}

/** The ollama package throws a ResponseError it does not export. */
function isOllamaError(error: unknown): error is Error & { status_code: number; error: string } {
  return error instanceof Error && error.name === 'ResponseError' && typeof (error as { status_code?: unknown }).status_code === 'number';
}

function retryAfterOf(error: unknown): number | undefined {
  const headers = error instanceof OpenAIAPIError || error instanceof AnthropicAPIError ? error.headers : undefined;
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (ms > 0) return ms;
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current && chain.length < 6; current = (current as { cause?: unknown }).cause) {
    chain.push(current);
  }
  return chain;
}

function isAbort(error: unknown): boolean {
  return causes(error).some((e) => e instanceof Error && e.name === 'AbortError');
}

function isTimeout(error: unknown): boolean {
  return causes(error).some(
    (e) => e instanceof Error && (e.name === 'TimeoutError' || /ETIMEDOUT|UND_ERR_.*TIMEOUT/.test(String((e as { code?: string }).code))),
  );
}

function isConnectionRefused(error: unknown): boolean {
  return causes(error).some((e) => /ECONNREFUSED/.test(String((e as { code?: string }).code ?? '')));
}
