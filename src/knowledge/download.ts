import { UserError } from '../errors.js';

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
    if (timeout.aborted) throw new UserError(`The download took longer than ${Math.round(limits.timeoutMs / 1000)} s and was stopped.`);
    throw error;
  }
}
