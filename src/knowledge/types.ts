/** A part of an extracted document that knows where it came from. */
export interface ExtractedSection {
  text: string;
  page?: number;
  heading?: string;
}

/** A Character Card V2 `character_book` entry (world info). */
export interface LoreEntry {
  keys: string[];
  secondaryKeys?: string[];
  content: string;
  name?: string;
  constant?: boolean;
  selective?: boolean;
  caseSensitive?: boolean;
  useRegex?: boolean;
  priority?: number;
  enabled?: boolean;
}

export interface Extracted {
  /** The document as plain text. */
  text: string;
  /** The detected type, e.g. application/pdf. */
  mimeType: string;
  /** Pages or headed parts, in order, when the format has them. */
  sections?: ExtractedSection[];
  /** A character card's lorebook: one knowledge item per entry. */
  lorebook?: LoreEntry[];
}

export interface Chunk {
  index: number;
  text: string;
  tokenCount: number;
  /** Character offsets into the extracted text. */
  start: number;
  end: number;
  page?: number;
  heading?: string;
}

export interface ExtractLimits {
  /** Largest uncompressed size an archive format (DOCX, EPUB) may unpack to. */
  maxUnpackedBytes: number;
}

export type ExtractText = (buffer: Buffer, hints: { filename: string; mimeHint?: string; limits: ExtractLimits }) => Promise<Extracted>;
export type ChunkText = (extracted: Extracted) => Chunk[];
