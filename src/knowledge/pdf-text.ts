import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { PDF_LIMITS, type Extracted, type ExtractLimits } from './types.js';

type Outcome = { pages: string[] } | { refused: 'encrypted' | 'damaged' | 'pages' | 'text'; pages?: number };

/**
 * A PDF's text, read in a worker thread with its own heap limit, a time limit
 * and the job's abort signal: a PDF built to take gigabytes or hours (thousands
 * of pages, huge streams) ends with the reason in plain words, and the rest of
 * the process (replies, other jobs) goes on.
 */
export async function extractPdf(buffer: Buffer, given: ExtractLimits, signal?: AbortSignal): Promise<Extracted> {
  signal?.throwIfAborted();
  const limits = { ...PDF_LIMITS, ...definedOnly(given) };
  const worker = new Worker(new URL('./pdf-worker.ts', import.meta.url), {
    workerData: { data: new Uint8Array(buffer), maxPages: limits.maxPdfPages, maxChars: limits.maxTextChars },
    resourceLimits: { maxOldGenerationSizeMb: limits.pdfMemoryMb, maxYoungGenerationSizeMb: 32 },
  });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const outcome = await new Promise<Outcome>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', (error: Error & { code?: string }) =>
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new UserError(
                `That PDF needs more than ${limits.pdfMemoryMb} MB of memory to read, so it was stopped. Split it into smaller files.`,
              )
            : error,
        ),
      );
      worker.once('exit', (code) => reject(new Error(`The PDF reader stopped (exit code ${code}).`)));
      timer = setTimeout(
        () =>
          reject(
            new UserError(
              `That PDF took longer than ${Math.ceil(limits.pdfTimeoutMs / 1000)} s to read, so it was stopped. Split it into smaller files.`,
            ),
          ),
        limits.pdfTimeoutMs,
      );
      onAbort = () => reject(signal!.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    if ('refused' in outcome) throw new UserError(refusal(outcome, limits));
    const sections = outcome.pages.map((page, i) => ({ text: page.trim(), page: i + 1 })).filter((s) => s.text);
    return { mimeType: 'application/pdf', text: sections.map((s) => s.text).join('\n\n'), sections };
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}

function refusal(outcome: Exclude<Outcome, { pages: string[] }>, limits: Required<ExtractLimits>): string {
  switch (outcome.refused) {
    case 'encrypted':
      return 'That PDF is password-protected.';
    case 'pages':
      return `That PDF has ${outcome.pages} pages; at most ${limits.maxPdfPages} can be learned from one file. Split it into smaller files.`;
    case 'text':
      return `That PDF holds more than ${limits.maxTextChars.toLocaleString('en')} characters of text (reached by page ${outcome.pages}). Split it into smaller files.`;
    default:
      return 'That PDF could not be read: it looks damaged.';
  }
}

function definedOnly(limits: ExtractLimits): ExtractLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined)) as ExtractLimits;
}
