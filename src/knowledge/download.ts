import { UserError } from '../errors.js';
import { checkEndpointUrl } from '../llm/endpoint-guard.js';
import { ProviderError } from '../llm/errors.js';

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs: number;
}

/**
 * Downloads a file with its size capped before (Content-Length) and during
 * the transfer, and a time limit for the whole of it, so a huge or stalled
 * download ends with a clear message. `fetcher` is the SSRF-guarded fetch.
 */
export async function download(url: string, limits: DownloadLimits, fetcher: typeof fetch, signal?: AbortSignal): Promise<Buffer> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const megabytes = (limits.maxBytes / 1024 / 1024).toFixed(limits.maxBytes < 1024 * 1024 ? 2 : 0);
  try {
    const response = await fetcher(url, { signal: combined });
    if (!response.ok) throw new UserError(`The file could not be downloaded (HTTP ${response.status}). Upload it again.`);
    const declared = Number(response.headers.get('content-length'));
    if (declared > limits.maxBytes) throw new UserError(`That file is larger than the ${megabytes} MB limit.`);
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > limits.maxBytes) throw new UserError(`That file is larger than the ${megabytes} MB limit.`);
      parts.push(Buffer.from(chunk));
    }
    return Buffer.concat(parts);
  } catch (error) {
    if (error instanceof UserError) throw error;
    // Refused by the SSRF guard (a private address, after DNS or a redirect): retrying will not help, so say why now.
    const blocked = blockedReason(error);
    if (blocked) throw new UserError(blocked);
    if (timeout.aborted) throw new UserError(`The download took longer than ${Math.round(limits.timeoutMs / 1000)} s and was stopped.`);
    throw error;
  }
}

/** Longer links are refused in plain words (Discord's own links are far shorter). */
const MAX_URL_LENGTH = 2_000;

/**
 * Checks a link before anything is queued: its length, its scheme (http or
 * https only) and, when it is an IP address or localhost, that it is public.
 * Names that resolve to private addresses are refused when the download
 * connects, in the same words.
 */
export function assertDownloadableUrl(url: string, allowPrivate: boolean): void {
  if (url.length > MAX_URL_LENGTH) throw new UserError(`That link is longer than ${MAX_URL_LENGTH} characters.`);
  try {
    checkEndpointUrl(url, { allowPrivate });
  } catch (error) {
    throw new UserError(blockedReason(error) ?? 'That is not a link I can download from.');
  }
}

function blockedReason(error: unknown): string | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ProviderError && (cause.kind === 'blocked_endpoint' || cause.kind === 'bad_request')) {
      return cause.userMessage.replace(/^The endpoint /, 'The link ').replace('Endpoints must be', 'Links must be');
    }
  }
  return undefined;
}
