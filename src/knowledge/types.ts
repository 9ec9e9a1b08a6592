/** A part of an extracted document that knows where it came from. */
export interface ExtractedSection {
  text: string;
  page?: number;
  heading?: string;
}

/**
 * Where SillyTavern puts an entry's content (its `extensions.position` number in cards, `position` in world-info
 * files): 0 before_char, 1 after_char, 2 an_top, 3 an_bottom, 4 at_depth, 5 em_top, 6 em_bottom, 7 outlet.
 * A card's own top-level `position` ('before_char' | 'after_char') is the V2 spec's coarser version of the same.
 */
export const LORE_POSITIONS = ['before_char', 'after_char', 'an_top', 'an_bottom', 'at_depth', 'em_top', 'em_bottom', 'outlet'] as const;
export type LorePosition = (typeof LORE_POSITIONS)[number];

/** ST's `selectiveLogic` for secondary keys: 0 AND_ANY, 1 NOT_ALL, 2 NOT_ANY, 3 AND_ALL. */
export const LORE_LOGICS = ['and_any', 'not_all', 'not_any', 'and_all'] as const;
export type LoreLogic = (typeof LORE_LOGICS)[number];

/** ST's `role` of an at-depth entry: 0 system, 1 user, 2 assistant. */
export type LoreRole = 'system' | 'user' | 'assistant';

/**
 * A lorebook entry (world info), normalised from a Character Card V2/V3 `character_book` entry (with SillyTavern's
 * `extensions`), a SillyTavern world-info file entry, or /lore add. Every field is optional but keys and content;
 * an absent field means "SillyTavern's default" (the prompt assembler decides what that is, citing ST's
 * world-info.js). `original` is the entry exactly as it came, so export gives back every key, nested ones included.
 */
export interface LoreEntry {
  keys: string[];
  secondaryKeys?: string[];
  content: string;
  /** The entry's title: `comment` in ST (and V2's `name`). */
  name?: string;
  enabled?: boolean;
  constant?: boolean;
  /** Whether secondary keys apply at all (V2 `selective`). */
  selective?: boolean;
  selectiveLogic?: LoreLogic;
  caseSensitive?: boolean;
  matchWholeWords?: boolean;
  /** Keys are regular expressions (`/…/flags` keys are regexes in ST whatever this says). */
  useRegex?: boolean;
  /** V2 `priority`: which entries are dropped first when the budget is exceeded (lower goes first). */
  priority?: number;
  /** V2 `insertion_order` / ST `order`: the order entries are inserted in (higher closer to the end). */
  insertionOrder?: number;
  position?: LorePosition;
  /** For at_depth: how many messages from the end. */
  depth?: number;
  role?: LoreRole;
  /** 0–100: chance the entry fires when its keys match (applies when useProbability is not false). */
  probability?: number;
  useProbability?: boolean;
  /** Messages scanned for this entry's keys (overrides the book's scan_depth). */
  scanDepth?: number;
  excludeRecursion?: boolean;
  preventRecursion?: boolean;
  /** true or a recursion level: the entry fires only from recursion (at that level or later). */
  delayUntilRecursion?: boolean | number;
  /** Inclusion group(s), comma-separated as in ST. */
  group?: string;
  groupOverride?: boolean;
  groupWeight?: number;
  useGroupScoring?: boolean;
  /** Timed effects, in messages. */
  sticky?: number;
  cooldown?: number;
  delay?: number;
  /** Activated by vector similarity too (ST's "vectorized"): off unless the entry says so. */
  vectorized?: boolean;
  /**
   * The card's fields and the persona description scanned for this entry's keys besides the chat (ST's
   * matchPersonaDescription … matchCreatorNotes, `extensions.match_persona_description` … in cards).
   */
  matchPersonaDescription?: boolean;
  matchCharacterDescription?: boolean;
  matchCharacterPersonality?: boolean;
  matchCharacterDepthPrompt?: boolean;
  matchScenario?: boolean;
  matchCreatorNotes?: boolean;
  /**
   * World-info files only: the characters the entry is for (or, with isExclude, not for), by name as ST names them
   * (the card's file name, usually its name). `tags` are ST tag ids of the install that wrote the file.
   */
  characterFilter?: { isExclude: boolean; names: string[]; tags: string[] };
  /** Stable id within its book (V2 `id`, ST `uid`). */
  id?: number | string;
  /** The entry as it came (card entry or world-info entry), every key kept, for lossless export. */
  original?: Record<string, unknown>;
}

/** A lorebook's own settings (V2 `character_book` minus its entries). */
export interface LoreBookSettings {
  name?: string;
  description?: string;
  /** Messages scanned for keys (ST's default is 2 when absent). */
  scanDepth?: number;
  tokenBudget?: number;
  recursiveScanning?: boolean;
  extensions?: Record<string, unknown>;
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
  /** Most pages a PDF may have (default in PDF_LIMITS, as the next ones). */
  maxPdfPages?: number;
  /** Most characters of text one PDF may yield. */
  maxTextChars?: number;
  /** How long reading one PDF may take. */
  pdfTimeoutMs?: number;
  /** The heap of the thread that reads a PDF. */
  pdfMemoryMb?: number;
}

/** The PDF limits unless told otherwise; the README lists them. */
export const PDF_LIMITS: Required<ExtractLimits> = {
  maxUnpackedBytes: 200 * 1024 * 1024,
  maxPdfPages: 2_000,
  maxTextChars: 5_000_000,
  pdfTimeoutMs: 60_000,
  pdfMemoryMb: 256,
};

export type ExtractText = (
  buffer: Buffer,
  hints: { filename: string; mimeHint?: string; limits: ExtractLimits; signal?: AbortSignal },
) => Promise<Extracted>;
export type ChunkText = (extracted: Extracted) => Chunk[];
