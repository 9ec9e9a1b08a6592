import type { LorePosition, LoreRole } from '../knowledge/types.js';
import { fillMacros, type MacroContext } from './macros.js';
import { MEMORY_HEADINGS, MEMORY_KINDS_IN_ORDER, pickMemories } from './prompt-memories.js';
import { exampleBlocks, historyMessage, injectAtDepth, ST_DEFAULTS, type DepthInjection } from './prompt-sections.js';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from './tokens.js';

/** One message of a chat prompt, in the shape every provider accepts. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** The speaker, for providers that take it (OpenAI); example messages are named example_user / example_assistant. */
  name?: string;
  /** Pictures shown with the message (user messages, vision models only); each adapter renders them its vendor's way. */
  images?: ChatImage[];
}

/** A picture in a prompt: the bytes as base64, and what it costs by the vendor's image token rule. */
export interface ChatImage {
  mimeType: string;
  /** Base64, without a data: prefix. */
  data: string;
  tokens: number;
}

/** The parts of a character that go into its prompt, as written on the card (macros not yet filled). */
export interface PromptCharacter {
  name: string;
  /** The card's description (ST's charDescription). */
  personalityPrompt: string;
  /** The card's personality, apart from the description (ST's charPersonality). */
  personality?: string | null;
  scenario?: string | null;
  /** Replaces the main prompt; `{{original}}` in it stands for the main prompt it replaces. */
  systemPrompt?: string | null;
  exampleDialogue?: string | null;
  /** After the history; `{{original}}` stands for the default (empty) post-history instructions. */
  postHistoryInstructions?: string | null;
  /** The card's `extensions.depth_prompt` (ST's character's note): put into the history at its depth. */
  depthPrompt?: { prompt: string; depth?: number; role?: LoreRole } | null;
}

/** One stored message of the conversation, oldest first. */
export interface HistoryEntry {
  id: string;
  role: 'user' | 'assistant' | 'system';
  /** The person's name (role user) or the character's name (role assistant). */
  speaker: string;
  content: string;
  /** When it was written (stored history has it). */
  at?: Date;
  /** The person who wrote it (role user): who is being answered; recall searches with their own words. */
  authorId?: string;
  /** The persona a person spoke as (its name is the speaker); `nsfw` when it is NSFW, worn where that may run. */
  persona?: { id: string; nsfw: boolean };
  /** Pictures the model sees with it (the content already notes every image in words). */
  images?: ChatImage[];
}

/** A persona a person plays, as the prompt describes it. */
export interface PromptPersona {
  name: string;
  description: string;
}

/** The personas in a conversation's recent lines: {{user}}'s, and the other people's, each once. */
export interface PromptPersonas {
  user?: PromptPersona;
  others: PromptPersona[];
}

export const MEMORY_KINDS = ['lore', 'knowledge', 'conversation', 'other'] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

/** A Discord message, by ids (no guild: a direct message). */
export interface MessageRef {
  guildId?: string;
  channelId: string;
  messageId: string;
}

/** Where a memory came from, for the Sources button. */
export interface MemorySource {
  label: string;
  /** A web page a knowledge passage came from. */
  url?: string;
  /** The Discord message an earlier exchange ended with; the Discord layer makes it a link. */
  jump?: MessageRef;
  /** The person a memory of another conversation belongs to: only they see its text. */
  userId?: string;
}

/**
 * A remembered snippet: a knowledge chunk, an older exchange of this conversation, or one of another
 * conversation with the same person. Within a kind, the caller gives them best first. (Lore does not come in
 * as a memory: it comes in by its activation rules, as `lore`.)
 */
export interface PromptMemory {
  id: string;
  kind: MemoryKind;
  content: string;
  score?: number;
  /** The stored messages an exchange is made of: left out when any is in the prompt already. */
  messageIds?: string[];
  knowledgeId?: string;
  source?: MemorySource;
}

/** A lorebook entry its activation rules brought in (src/knowledge/lore-select.ts), content macro-filled. */
export interface PromptLore {
  id: string;
  content: string;
  position: LorePosition;
  depth: number;
  role: LoreRole;
  /** For the Sources button. */
  source?: MemorySource;
}

export interface PromptBudget {
  /** The model's context window in tokens. */
  contextWindow: number;
  /** Tokens wanted for the reply; shrinks (down to `minOutputTokens`) before anything is refused. */
  maxOutputTokens: number;
  /** The least the reply may be left (default 256, or maxOutputTokens if smaller). */
  minOutputTokens?: number;
  /** At most this share of what is left after the fixed parts goes to memories (default 0.35). */
  memoryShare?: number;
  /** How the memory share is split between kinds (defaults in MEMORY_SHARES). */
  kindShares?: Partial<Record<MemoryKind, number>>;
  /** Kept free for tokenizer differences between vendors (default 5%). */
  safetyMargin?: number;
}

/**
 * Everything one reply's prompt is made of. An object, so later sections (notes about each person, issue 15)
 * are one more optional field.
 */
export interface PromptInput {
  character: PromptCharacter;
  history: HistoryEntry[];
  memories: PromptMemory[];
  budget: PromptBudget;
  /** Activated lore, in prompt order. */
  lore?: PromptLore[];
  /** The running summary of what came before the recent messages, and the time of the last message it covers. */
  summary?: string;
  summaryUpTo?: Date;
  /**
   * Who {{user}} is, and the macro context (time, randomness) for everything in the prompt; by default {{user}}
   * is the author of the newest person's message (src/chat/prompt-input.ts decides it for real replies).
   */
  macros?: Omit<MacroContext, 'char' | 'original' | 'fields' | 'group'>;
  /**
   * Who the people here play (descriptions with macros filled): {{user}}'s persona description goes where ST's
   * chat-completion order puts personaDescription, the other people's right after it.
   */
  personas?: PromptPersonas;
  /** Said after the post-history instructions (a continuation request). */
  finalInstruction?: string;
  /** The character's notes about the person answered (src/memory/notes.ts), newest first: always in, within NOTES_TOKENS. */
  notes?: PromptNote[];
  /** Messages pinned in this conversation (/memory pin), oldest first: always in unless the history shows them. */
  pins?: PromptPin[];
  /**
   * In a scene: its characters in the order they joined, muted ones too (ST's group members, getGroupValue(true) in
   * script.js). {{group}} lists them, then the other people seen in the history; without a cast it is the character
   * and the other people seen, or the character alone.
   */
  cast?: string[];
}

/** A durable fact about the person answered; `persona` is who they played when they said it. */
export interface PromptNote {
  id: string;
  content: string;
  persona?: string;
}

/** A pinned message: its stored id (left out when the history holds it), who said it and what. */
export interface PromptPin {
  id: string;
  speaker: string;
  content: string;
}

/** A message of the built prompt with the section it belongs to and what it costs. */
export interface PromptPart {
  section: string;
  message: ChatMessage;
  tokens: number;
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  /** The same messages with their sections and token counts (npm run prompt shows these). */
  parts: PromptPart[];
  promptTokens: number;
  /** Who {{user}} was in this prompt. */
  user: string;
  /** What was kept for the reply (it may be less than asked when the context is small). */
  maxOutputTokens: number;
  /** Ids of the history entries and memories that made it in. */
  includedHistory: string[];
  includedMemories: string[];
  /** The memories that made it in, for the Sources button. */
  memories: PromptMemory[];
  /** The lore entries that made it in. */
  lore: PromptLore[];
  /** Ids of the notes and pinned messages that made it in. */
  includedNotes: string[];
  includedPins: string[];
  droppedHistory: number;
  droppedMemories: number;
}

export class PromptTooLargeError extends Error {
  override name = 'PromptTooLargeError';
}

/** Notes about the person take at most this many tokens (and an eighth of what is left after the fixed parts). */
const NOTES_TOKENS = 300;
/** Pinned messages take at most this many tokens (and a sixth of what is left). */
const PINS_TOKENS = 800;

const MEMORY_SHARES: Record<MemoryKind, number> = { lore: 0, knowledge: 0.4, conversation: 0.35, other: 0.25 };
const DEFAULT_MIN_OUTPUT = 256;

const cost = (text: string) => (text ? countTokens(text) + MESSAGE_OVERHEAD_TOKENS : 0);

/**
 * Builds the messages for one reply in SillyTavern's chat-completion order (openai.js, default prompt_order and
 * populateChatCompletion): main prompt (the card's system prompt replaces it, {{original}} = ST's default), the
 * summary and recalled memories (ST's Summarize and Vector Storage extensions put theirs right after the main
 * prompt), world info before, persona description, description, personality, scenario, world info after, the
 * dialogue examples ("[Example Chat]" blocks), "[Start a new Chat]" and the history with its depth injections
 * (the Author's-Note lore, the card's depth_prompt, at-depth lore), then the post-history instructions. Each part is
 * its own message, as ST sends them; empty parts are left out.
 *
 * Budget: the card's parts and the activated lore are never cut. The reply reserve shrinks to its floor before
 * the build is refused. Then the newest history (messages after the summary's end first, so none falls between
 * the summary and the window), then the examples in what the history leaves (ST's default, pin_examples off),
 * then memories within their share and what is left.
 */
export function buildPrompt(input: PromptInput): BuiltPrompt {
  const { character, budget } = input;
  const macros = input.macros ?? { user: input.history.findLast((entry) => entry.role === 'user')?.speaker ?? 'User' };
  const user = macros.user;
  const others = otherPeople(input.history, character.name, user);
  const group = input.cast?.length ? [...new Set([...input.cast, ...others])] : others.length ? [character.name, ...others] : undefined;
  const fields = {
    description: character.personalityPrompt,
    personality: character.personality ?? '',
    scenario: character.scenario ?? '',
    persona: input.personas?.user?.description ?? '',
    mesExamples: character.exampleDialogue ?? '',
  };
  const fill = (text: string | null | undefined, original?: string) =>
    (text ? fillMacros(text, { ...macros, user, char: character.name, group, fields, original }) : '').trim();

  const lore = input.lore ?? [];
  const loreAt = (...positions: LorePosition[]) => lore.filter((entry) => positions.includes(entry.position));
  const joined = (entries: PromptLore[]) =>
    entries
      .map((entry) => fill(entry.content))
      .filter(Boolean)
      .join('\n');
  const main = fill(character.systemPrompt?.trim() ? character.systemPrompt : ST_DEFAULTS.main, fill(ST_DEFAULTS.main));
  const postHistory = [fill(character.postHistoryInstructions, ''), input.finalInstruction?.trim() ?? ''].filter(Boolean).join('\n');
  const newChat = fill(group ? ST_DEFAULTS.newGroupChat : ST_DEFAULTS.newChat);

  const head: PromptPart[] = [];
  const part = (section: string, content: string, extra: Partial<ChatMessage> = {}): PromptPart | undefined =>
    content ? { section, message: { role: 'system', content, ...extra }, tokens: cost(content) } : undefined;
  const fixedBefore = [
    part('main prompt', main),
    part('world info (before)', joined(loreAt('before_char'))),
    part('persona description', fill(input.personas?.user?.description)),
    part('other personas', othersText(input.personas)),
    part('description', fill(character.personalityPrompt)),
    part('personality', fill(character.personality)),
    part('scenario', fill(character.scenario)),
    part('world info (after)', joined(loreAt('after_char'))),
  ];
  const tail = part('post-history instructions', postHistory);
  const newChatPart = part('chat start', newChat)!;

  const injections: DepthInjection[] = [];
  const authorsNote = [joined(loreAt('an_top')), joined(loreAt('an_bottom'))].filter(Boolean).join('\n');
  if (authorsNote) injections.push({ depth: ST_DEFAULTS.authorsNoteDepth, role: 'system', content: authorsNote });
  const depthPrompt = fill(character.depthPrompt?.prompt);
  if (depthPrompt) {
    injections.push({
      depth: character.depthPrompt?.depth ?? ST_DEFAULTS.depthPromptDepth,
      role: character.depthPrompt?.role ?? 'system',
      content: depthPrompt,
    });
  }
  for (const entry of loreAt('at_depth')) injections.push({ depth: entry.depth, role: entry.role, content: fill(entry.content) });

  const fixedTokens =
    [...fixedBefore, tail, newChatPart].reduce((sum, p) => sum + (p?.tokens ?? 0), 0) +
    injections.reduce((sum, injection) => sum + cost(injection.content), 0);
  const margin = Math.ceil(budget.contextWindow * (budget.safetyMargin ?? 0.05));
  const floor = Math.min(budget.maxOutputTokens, budget.minOutputTokens ?? DEFAULT_MIN_OUTPUT);
  const named = Boolean(group);
  const toMessage = (entry: HistoryEntry) => historyMessage(entry, character.name, named);
  const newest = input.history.at(-1);
  const newestCost = newest ? cost(toMessage(newest).content) + imageTokensOf(toMessage(newest)) : 0;
  const room = budget.contextWindow - margin - fixedTokens - newestCost;
  if (room < floor) {
    throw new PromptTooLargeError(
      `${character.name}'s prompt needs ${fixedTokens + newestCost} tokens, more than the model's ` +
        `${budget.contextWindow}-token context allows with even ${floor} kept for the reply. ` +
        'Shorten the card or its always-on lore, or set a larger context size.',
    );
  }
  const reserve = Math.min(budget.maxOutputTokens, room);
  let available = budget.contextWindow - margin - reserve - fixedTokens;

  // The summary, whole or not at all, within a quarter of what is left.
  const summaryText = input.summary?.trim() ? fill(ST_DEFAULTS.summary.replace('{{summary}}', input.summary.trim())) : '';
  const summaryPart = summaryText && cost(summaryText) <= available / 4 ? part('summary', summaryText) : undefined;
  available -= summaryPart?.tokens ?? 0;

  // Notes about the person and pinned messages: always in, newest notes first, each whole, within small budgets.
  const notes = fitLines(
    (input.notes ?? []).map((note) => ({ id: note.id, line: `- ${noteLine(note)}` })),
    Math.min(NOTES_TOKENS, available / 8),
    fill(NOTES_HEADING),
  );
  available -= notes.tokens;
  const pinsReserved = fitLines(
    (input.pins ?? []).map((pin) => ({ id: pin.id, line: `- ${pin.speaker}: ${pin.content.trim()}` })),
    Math.min(PINS_TOKENS, available / 6),
    fill(PINS_HEADING),
  );
  available -= pinsReserved.tokens;

  // History, newest first; messages after the summary's end may use the memory share too.
  const memoryShare = Math.floor(available * (budget.memoryShare ?? 0.35));
  const historyBudget = available - memoryShare;
  const kept: { entry: HistoryEntry; message: ChatMessage; tokens: number }[] = [];
  let used = 0;
  for (let i = input.history.length - 1; i >= 0; i--) {
    const entry = input.history[i]!;
    const message = toMessage(entry);
    const tokens = cost(message.content) + imageTokensOf(message);
    const afterSummary = summaryPart && input.summaryUpTo && entry.at && entry.at > input.summaryUpTo;
    const limit = afterSummary || i === input.history.length - 1 ? available : historyBudget;
    if (used + tokens > limit) break;
    used += tokens;
    kept.unshift({ entry, message, tokens });
  }
  available -= used;
  // A pinned message the history shows is not repeated; what it took goes to the examples and memories.
  const inWindow = new Set(kept.map((item) => item.entry.id));
  const pins = fitLines(
    pinsReserved.items.filter((item) => !inWindow.has(item.id)),
    pinsReserved.tokens,
    fill(PINS_HEADING),
  );
  available += pinsReserved.tokens - pins.tokens;

  // Examples, block by block, in what the history left of its own budget (and the lore meant for them).
  const examples: PromptPart[] = [];
  let exampleRoom = Math.max(0, historyBudget - used);
  const emTop = joined(loreAt('em_top'));
  const emBottom = joined(loreAt('em_bottom'));
  const blocks = exampleBlocks(fill(character.exampleDialogue), { user, char: character.name });
  for (const block of blocks) {
    const blockParts = [
      part('examples', ST_DEFAULTS.newExampleChat)!,
      ...block.map((message) => ({ section: 'examples', message, tokens: cost(message.content) })),
    ];
    const tokens = blockParts.reduce((sum, p) => sum + p.tokens, 0);
    if (tokens > exampleRoom) break;
    exampleRoom -= tokens;
    examples.push(...blockParts);
  }
  for (const [content, atStart] of [
    [emTop, true],
    [emBottom, false],
  ] as const) {
    const p = part('world info (examples)', content);
    if (p && p.tokens <= exampleRoom) {
      exampleRoom -= p.tokens;
      if (atStart) examples.unshift(p);
      else examples.push(p);
    }
  }
  const exampleTokens = examples.reduce((sum, p) => sum + p.tokens, 0);
  available -= exampleTokens;

  // Memories, whole or not at all: each kind within its share first, then what is left by place in its kind's ranking.
  const heading = (kind: MemoryKind) => fill(MEMORY_HEADINGS[kind]);
  const picked = pickMemories(
    input.memories.filter((memory) => memory.kind !== 'lore'),
    { limit: Math.max(0, available), shares: { ...MEMORY_SHARES, ...budget.kindShares }, window: kept.map((item) => item.entry), heading },
  );
  const memoryParts = MEMORY_KINDS_IN_ORDER.flatMap((kind) => {
    const chosen = picked.memories.filter((memory) => memory.kind === kind);
    if (!chosen.length) return [];
    return [part(`memories: ${kind}`, `${heading(kind)}\n${chosen.map((memory) => `- ${fill(memory.content)}`).join('\n')}`)!];
  });

  head.push(
    ...[
      fixedBefore[0],
      summaryPart,
      part('notes', notes.text),
      part('pinned messages', pins.text),
      ...memoryParts,
      ...fixedBefore.slice(1),
    ].filter((p): p is PromptPart => Boolean(p)),
  );
  const historyMessages = injectAtDepth(
    kept.map((item) => item.message),
    injections,
  );
  const historyParts = historyMessages.map((message) => ({
    section: kept.some((item) => item.message === message) ? 'history' : 'depth injection',
    message,
    tokens: cost(message.content) + imageTokensOf(message),
  }));
  const parts = [...head, ...examples, newChatPart, ...historyParts, ...(tail ? [tail] : [])];
  return {
    messages: parts.map((p) => p.message),
    parts,
    promptTokens: parts.reduce((sum, p) => sum + p.tokens, 0),
    user,
    maxOutputTokens: reserve,
    includedHistory: kept.map((item) => item.entry.id),
    includedMemories: picked.memories.map((memory) => memory.id),
    memories: picked.memories,
    lore,
    includedNotes: notes.items.map((item) => item.id),
    includedPins: pins.items.map((item) => item.id),
    droppedHistory: input.history.length - kept.length,
    droppedMemories: input.memories.length - picked.memories.length,
  };
}

/** The heading of the notes about the person answered, and of the pinned messages. */
const NOTES_HEADING = 'What {{char}} knows about {{user}}:';
const PINS_HEADING = 'Pinned messages:';

/** A note as one line: who the person played when they said it, unless the note says so itself. */
function noteLine(note: PromptNote): string {
  const content = note.content.trim();
  if (!note.persona || content.toLowerCase().startsWith(`as ${note.persona.toLowerCase()}`)) return content;
  return `(as ${note.persona}) ${content}`;
}

/** The lines that fit `limit` tokens under a heading, in order (each whole; one too long is skipped), and their cost. */
function fitLines<T extends { id: string; line: string }>(
  items: T[],
  limit: number,
  heading: string,
): { items: T[]; text: string; tokens: number } {
  const chosen: T[] = [];
  let tokens = 0;
  for (const item of items) {
    const next = cost([heading, ...chosen.map((c) => c.line), item.line].join('\n'));
    if (next > limit) continue;
    chosen.push(item);
    tokens = next;
  }
  return { items: chosen, text: chosen.length ? [heading, ...chosen.map((c) => c.line)].join('\n') : '', tokens };
}

/** The other people and characters in the history (not the character itself, not {{user}}), first seen first. */
function otherPeople(history: HistoryEntry[], characterName: string, user: string): string[] {
  const names: string[] = [];
  for (const entry of history) {
    if (entry.role === 'system' || entry.speaker === characterName || entry.speaker === user) continue;
    if (!names.includes(entry.speaker)) names.push(entry.speaker);
  }
  return names;
}

function imageTokensOf(message: ChatMessage): number {
  return (message.images ?? []).reduce((sum, image) => sum + image.tokens, 0);
}

function othersText(personas?: PromptPersonas): string {
  const others = (personas?.others ?? []).filter((other) => other.description.trim());
  if (!others.length) return '';
  return `Other people here play these characters:\n${others.map((other) => `${other.name}: ${other.description.trim()}`).join('\n\n')}`;
}
