import { countTokens, MESSAGE_OVERHEAD_TOKENS } from './tokens.js';

/** One message of a chat prompt, in the shape every provider accepts. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** The speaker, for providers that take it (OpenAI); the content carries the name as well. */
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

/** The parts of a character that go into its prompt. */
export interface PromptCharacter {
  name: string;
  personalityPrompt: string;
  scenario?: string | null;
  systemPrompt?: string | null;
  exampleDialogue?: string | null;
  postHistoryInstructions?: string | null;
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
  /** The person who wrote it (role user, stored history): recall searches with the answered person's own words. */
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
 * A remembered snippet: a lore entry, a knowledge chunk, an older exchange of
 * this conversation, or one of another conversation with the same person.
 * Within a kind, the caller gives them best first.
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

export interface PromptBudget {
  /** The model's context window in tokens. */
  contextWindow: number;
  /** Tokens reserved for the reply. */
  maxOutputTokens: number;
  /** At most this share of what is left after the system prompt goes to memories (default 0.35). */
  memoryShare?: number;
  /**
   * How the memory share is split between kinds (defaults in MEMORY_SHARES).
   * What one kind leaves unused goes to the others, best score first.
   */
  kindShares?: Partial<Record<MemoryKind, number>>;
  /** Kept free for tokenizer differences between vendors (default 5%). */
  safetyMargin?: number;
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  promptTokens: number;
  /** Ids of the history entries and memories that made it in. */
  includedHistory: string[];
  includedMemories: string[];
  /** The memories that made it in, for the Sources button. */
  memories: PromptMemory[];
  droppedHistory: number;
  droppedMemories: number;
}

export class PromptTooLargeError extends Error {
  override name = 'PromptTooLargeError';
}

const MEMORY_HEADINGS: Record<MemoryKind, string> = {
  lore: 'World information',
  knowledge: 'Things you know',
  conversation: 'Things you remember from earlier in this conversation',
  other: 'Things you remember from other conversations with them',
};

export const MEMORY_SHARES: Record<MemoryKind, number> = { lore: 0.25, knowledge: 0.35, conversation: 0.25, other: 0.15 };

/**
 * Builds the messages for one reply of `character` within the budget. The
 * system prompt is never cut; the newest history comes next, then memories in
 * the given order, each only if it fits whole.
 */
export function buildPrompt(input: {
  character: PromptCharacter;
  history: HistoryEntry[];
  memories: PromptMemory[];
  budget: PromptBudget;
  /** The running summary of what came before the recent messages. */
  summary?: string;
  /** Who the people here play (descriptions with macros filled). */
  personas?: PromptPersonas;
}): BuiltPrompt {
  const { character, budget } = input;
  const system = systemText(character, input.summary, input.personas);
  const systemTokens = countTokens(system) + MESSAGE_OVERHEAD_TOKENS;
  const tail = character.postHistoryInstructions?.trim();
  const tailTokens = tail ? countTokens(tail) + MESSAGE_OVERHEAD_TOKENS : 0;
  const margin = Math.ceil(budget.contextWindow * (budget.safetyMargin ?? 0.05));
  let available = budget.contextWindow - budget.maxOutputTokens - margin - systemTokens - tailTokens;
  if (available <= 0) {
    throw new PromptTooLargeError(
      `${character.name}'s prompt needs ${systemTokens + tailTokens} tokens, more than the model's ` +
        `${budget.contextWindow}-token context allows with ${budget.maxOutputTokens} kept for the reply.`,
    );
  }
  const memoryBudget = Math.floor(available * (budget.memoryShare ?? 0.35));

  // Newest history first, until the history budget (everything but the memory share) is used.
  const historyBudget = available - memoryBudget;
  const history: { entry: HistoryEntry; message: ChatMessage }[] = [];
  let used = 0;
  for (let i = input.history.length - 1; i >= 0; i--) {
    const entry = input.history[i]!;
    const message = toMessage(entry, character.name);
    const cost = countTokens(message.content) + MESSAGE_OVERHEAD_TOKENS + imageTokensOf(message);
    if (used + cost > historyBudget) break;
    used += cost;
    history.unshift({ entry, message });
  }
  available -= used;

  // Memories, whole or not at all: each kind within its share first, then what is left, best score first.
  const memoryLimit = Math.min(memoryBudget + (historyBudget - used), available);
  const picked = pickMemories(input.memories, {
    limit: memoryLimit,
    shares: { ...MEMORY_SHARES, ...budget.kindShares },
    window: history.map((item) => item.entry),
  });
  const chosen = new Map<MemoryKind, PromptMemory[]>();
  for (const memory of picked.memories) chosen.set(memory.kind, [...(chosen.get(memory.kind) ?? []), memory]);
  const memoryUsed = picked.tokens;
  const included = picked.memories.map((memory) => memory.id);

  const memoryText = MEMORY_KINDS
    .filter((kind) => chosen.has(kind))
    .map((kind) => `${MEMORY_HEADINGS[kind]}:\n${chosen.get(kind)!.map((m) => `- ${m.content.trim()}`).join('\n')}`)
    .join('\n\n');
  const messages: ChatMessage[] = [
    { role: 'system', content: memoryText ? `${system}\n\n${memoryText}` : system },
    ...history.map((item) => item.message),
  ];
  if (tail) messages.push({ role: 'system', content: tail });
  return {
    messages,
    promptTokens: systemTokens + tailTokens + used + memoryUsed,
    includedHistory: history.map((item) => item.entry.id),
    includedMemories: included,
    memories: picked.memories,
    droppedHistory: input.history.length - history.length,
    droppedMemories: input.memories.length - included.length,
  };
}

/**
 * Chooses memories within `limit` tokens: first each kind up to its share of
 * the limit (in the given order), then the rest by score in what is left.
 * An exchange whose messages are in the recent window, or a text the window
 * already quotes nearly word for word, is not injected twice.
 */
function pickMemories(
  memories: PromptMemory[],
  options: { limit: number; shares: Record<MemoryKind, number>; window: HistoryEntry[] },
): { memories: PromptMemory[]; tokens: number } {
  const inWindow = new Set(options.window.map((entry) => entry.id));
  const windowWords = options.window.map((entry) => wordsOf(entry.content));
  const fresh = memories.filter((memory) => {
    if (memory.messageIds?.some((id) => inWindow.has(id))) return false;
    const words = wordsOf(memory.content);
    return !windowWords.some((window) => mostlyWithin(words, window));
  });
  const chosen: PromptMemory[] = [];
  const chosenWords: Set<string>[] = [];
  const usedByKind = new Map<MemoryKind, number>();
  let tokens = 0;
  const costOf = (memory: PromptMemory) =>
    countTokens(memory.content) + 2 + (usedByKind.has(memory.kind) ? 0 : countTokens(MEMORY_HEADINGS[memory.kind]) + 2);
  const take = (memory: PromptMemory, cap: number) => {
    if (chosen.includes(memory)) return;
    const words = wordsOf(memory.content);
    // Two hits saying the same (a lore entry and its own chunk, a fact remembered twice): keep the first.
    if (chosenWords.some((other) => mostlyWithin(words, other))) return;
    const cost = costOf(memory);
    if (tokens + cost > options.limit || (usedByKind.get(memory.kind) ?? 0) + cost > cap) return;
    tokens += cost;
    usedByKind.set(memory.kind, (usedByKind.get(memory.kind) ?? 0) + cost);
    chosen.push(memory);
    chosenWords.push(words);
  };
  for (const memory of fresh) take(memory, Math.floor(options.limit * (options.shares[memory.kind] ?? 0)));
  const rest = fresh.filter((memory) => !chosen.includes(memory)).sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
  for (const memory of rest) take(memory, Infinity);
  const order = new Map(memories.map((memory, i) => [memory, i]));
  chosen.sort((a, b) => MEMORY_KINDS.indexOf(a.kind) - MEMORY_KINDS.indexOf(b.kind) || order.get(a)! - order.get(b)!);
  return { memories: chosen, tokens };
}

function wordsOf(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []);
}

/** At least 85% of `words` (five or more) are in `other`. */
function mostlyWithin(words: Set<string>, other: Set<string>): boolean {
  if (words.size < 5) return false;
  let shared = 0;
  for (const word of words) if (other.has(word)) shared++;
  return shared / words.size >= 0.85;
}

function systemText(character: PromptCharacter, summary?: string, personas?: PromptPersonas): string {
  const parts = [
    character.systemPrompt?.trim() ||
      `You are ${character.name}. Stay in character and reply as ${character.name} only, in a natural, conversational way.`,
    `${character.name}'s personality:\n${character.personalityPrompt.trim()}`,
  ];
  if (character.scenario?.trim()) parts.push(`Scenario:\n${character.scenario.trim()}`);
  // Where SillyTavern's story string puts {{persona}}: after the scenario, before the examples.
  const persona = personas?.user?.description.trim();
  if (persona) parts.push(persona);
  const others = (personas?.others ?? []).filter((other) => other.description.trim());
  if (others.length) {
    parts.push(`Other people here play these characters:\n${others.map((other) => `${other.name}: ${other.description.trim()}`).join('\n\n')}`);
  }
  if (character.exampleDialogue?.trim()) parts.push(`Examples of how ${character.name} speaks:\n${character.exampleDialogue.trim()}`);
  if (summary?.trim()) parts.push(`The story so far (a summary of the earlier messages):\n${summary.trim()}`);
  parts.push(
    'Several people may be talking; each of their messages starts with their name. Never speak for them.',
  );
  return parts.join('\n\n');
}

/**
 * People are told apart by name. The character's own past replies are the
 * assistant's; other characters' lines (in scenes) read as named user lines.
 */
function toMessage(entry: HistoryEntry, characterName: string): ChatMessage {
  if (entry.role === 'assistant' && entry.speaker === characterName) {
    return { role: 'assistant', content: entry.content };
  }
  if (entry.role === 'system') return { role: 'user', content: `[${entry.content}]` };
  const images = entry.images?.length ? { images: entry.images } : {};
  return { role: 'user', content: `${entry.speaker}: ${entry.content}`, name: safeName(entry.speaker), ...images };
}

function imageTokensOf(message: ChatMessage): number {
  return (message.images ?? []).reduce((sum, image) => sum + image.tokens, 0);
}

/** OpenAI's `name` field allows letters, digits, _ and - only, up to 64 characters. */
function safeName(name: string): string | undefined {
  const cleaned = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return /[A-Za-z0-9]/.test(cleaned) ? cleaned : undefined;
}
