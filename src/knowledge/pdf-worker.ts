/**
 * Reads a PDF's text in a worker thread (see extractPdf in pdf-text.ts), so the
 * thread's heap limit, a time limit and the job's abort can stop it without
 * stopping the process. Page by page, at most `maxPages` pages and `maxChars`
 * characters. Runs as a worker entry point: it imports packages only (Node's
 * own TypeScript support loads it, with or without tsx).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getDocumentProxy } from 'unpdf';

interface Job {
  data: Uint8Array;
  maxPages: number;
  maxChars: number;
}

const { data, maxPages, maxChars } = workerData as Job;

async function read(): Promise<void> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(data);
  } catch (error) {
    const encrypted = /password|encrypt/i.test(String((error as Error)?.message));
    parentPort!.postMessage({ refused: encrypted ? 'encrypted' : 'damaged' });
    return;
  }
  if (pdf.numPages > maxPages) {
    parentPort!.postMessage({ refused: 'pages', pages: pdf.numPages });
    return;
  }
  const pages: string[] = [];
  let chars = 0;
  for (let number = 1; number <= pdf.numPages; number++) {
    const content = await (await pdf.getPage(number)).getTextContent();
    const text = content.items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join('');
    chars += text.length;
    if (chars > maxChars) {
      parentPort!.postMessage({ refused: 'text', pages: number });
      return;
    }
    pages.push(text);
  }
  parentPort!.postMessage({ pages });
}

read().catch(() => parentPort!.postMessage({ refused: 'damaged' }));
