import { fileTypeFromBuffer } from 'file-type';
import { convert as htmlToText } from 'html-to-text';
import mammoth from 'mammoth';
import Papa from 'papaparse';
import { UserError } from '../errors.js';
import { extractPdf } from './pdf-text.js';
import { zipInflatesWithin, zipUnpackedSize } from './zip-size.js';
import { entriesOfBook, isObject, loreFromJson } from './lore-json.js';
import type { Extracted, ExtractText, LoreEntry } from './types.js';

const SUPPORTED = 'plain text, Markdown, PDF, DOCX, HTML, JSON (including character-card lorebooks) and CSV';

/**
 * Detects a file's type by its content (the name is only a hint between text
 * formats), and extracts its text with a well-kept library per format. A file
 * whose content is not one of the supported formats is refused in plain words,
 * whatever its name says.
 */
export const extractText: ExtractText = async (buffer, hints) => {
  if (buffer.length === 0) throw new UserError('That file is empty.');
  const detected = await fileTypeFromBuffer(buffer);
  if (detected?.mime === 'application/pdf') return extractPdf(buffer, hints.limits, hints.signal);
  if (detected?.ext === 'docx' || (detected?.mime === 'application/zip' && /\.docx$/i.test(hints.filename))) {
    return extractDocx(buffer, hints.limits.maxUnpackedBytes);
  }
  if (detected) {
    throw new UserError(`That file is ${detected.mime} (whatever its name says), which cannot be learned. Supported: ${SUPPORTED}.`);
  }
  const text = decodeUtf8(buffer);
  const name = hints.filename.toLowerCase();
  const trimmed = text.trimStart();
  if (name.endsWith('.json') || /^[[{]/.test(trimmed)) {
    const json = tryJson(text);
    if (json !== undefined) return extractJson(json);
  }
  if (/\.html?$/.test(name) || /^<(!doctype html|html|head|body)/i.test(trimmed)) {
    return {
      mimeType: 'text/html',
      text: htmlToText(text, {
        wordwrap: false,
        selectors: [
          { selector: 'a', options: { ignoreHref: true } },
          { selector: 'img', format: 'skip' },
          { selector: 'nav', format: 'skip' },
        ],
      }),
    };
  }
  if (name.endsWith('.csv')) return extractCsv(text);
  return { mimeType: name.endsWith('.md') || /^#{1,6} /m.test(text) ? 'text/markdown' : 'text/plain', text };
};

function decodeUtf8(buffer: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buffer);
  } catch {
    throw new UserError(`That file is not text in a format I can read. Supported: ${SUPPORTED}.`);
  }
  if (text.includes('\u0000')) throw new UserError(`That file looks binary. Supported: ${SUPPORTED}.`);
  return text.replace(/^\uFEFF/, '');
}

async function extractDocx(buffer: Buffer, maxUnpackedBytes: number): Promise<Extracted> {
  const unpacked = await zipUnpackedSize(buffer);
  if (unpacked === undefined) throw new UserError('That DOCX could not be read: it looks damaged.');
  if (unpacked > maxUnpackedBytes || unpacked > buffer.length * 200) {
    throw new UserError('That DOCX unpacks to far more than it weighs (a “zip bomb”), so it was not opened.');
  }
  // The declared sizes may lie: inflate it once, counting what really comes out, before the parser unpacks it whole.
  const inflated = await zipInflatesWithin(buffer, Math.min(maxUnpackedBytes, buffer.length * 200));
  if (inflated === 'damaged') throw new UserError('That DOCX could not be read: it looks damaged.');
  if (inflated !== 'ok') {
    throw new UserError('That DOCX unpacks to far more than it says it does (a “zip bomb”), so it was not opened.');
  }
  try {
    const { value } = await mammoth.extractRawText({ buffer });
    return { mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', text: value };
  } catch {
    throw new UserError('That DOCX could not be read: it looks damaged.');
  }
}

function extractCsv(text: string): Extracted {
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true });
  if (parsed.errors.length && !parsed.data.length) throw new UserError('That CSV could not be read.');
  const rows = parsed.data.map((row) =>
    Object.entries(row)
      .filter(([, value]) => String(value ?? '').trim())
      .map(([key, value]) => `${key}: ${value}`)
      .join('; '),
  );
  return { mimeType: 'text/csv', text: rows.join('\n\n') };
}

function extractJson(json: unknown): Extracted {
  const book = characterBook(json);
  if (book) {
    const text = book
      .filter((entry) => entry.enabled !== false)
      .map((entry) => entry.content)
      .filter((content) => content.trim())
      .join('\n\n');
    return { mimeType: 'application/json', text, lorebook: book };
  }
  const lines: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (lines.length > 200_000) return;
    if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) walk(child, path ? `${path}.${key}` : key);
    } else if (value !== null && value !== undefined && String(value).trim()) {
      lines.push(path ? `${path}: ${String(value)}` : String(value));
    }
  };
  walk(json, '');
  return { mimeType: 'application/json', text: lines.join('\n') };
}

/**
 * World-info entries carried by a JSON file: a SillyTavern world-info file (`entries` keyed by uid), a Character Card
 * V2/V3's `character_book`, or a bare book. Every entry is kept with its settings and JSON (see lore-json.ts).
 */
function characterBook(json: unknown): LoreEntry[] | undefined {
  if (!isObject(json)) return undefined;
  const data = isObject(json.data) ? json.data : undefined;
  const book = [data?.character_book, json.character_book, json].find((candidate) => isObject(candidate) && entriesOfBook(candidate));
  const entries = isObject(book) ? entriesOfBook(book) : undefined;
  const usable = entries?.filter((entry) => typeof entry.content === 'string');
  if (!usable?.length) return undefined;
  return usable.map((entry) => loreFromJson(entry));
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
