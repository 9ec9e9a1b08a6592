import { countTokens, MESSAGE_OVERHEAD_TOKENS } from './tokens.js';

/** One message of a chat prompt, in the shape every provider accepts. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** The speaker, for providers that take it (OpenAI); the content carries the name as well. */
  name?: string;
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
}

/** A remembered snippet, in priority order (the caller sorts). */
export interface PromptMemory {
  id: string;
  kind: 'knowledge' | 'conversation' | 'lore';
  content: string;
  score?: number;
}

export interface PromptBudget {
  /** The model's context window in tokens. */
  contextWindow: number;
  /** Tokens reserved for the reply. */
  maxOutputTokens: number;
  /** At most this share of what is left after the system prompt goes to memories (default 0.35). */
  memoryShare?: number;
  /** Kept free for tokenizer differences between vendors (default 5%). */
  safetyMargin?: number;
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  promptTokens: number;
  /** Ids of the history entries and memories that made it in. */
  includedHistory: string[];
  includedMemories: string[];
  droppedHistory: number;
  droppedMemories: number;
}

export class PromptTooLargeError extends Error {
  override name = 'PromptTooLargeError';
}

const MEMORY_HEADINGS: Record<PromptMemory['kind'], string> = {
  lore: 'World information',
  knowledge: 'Things you know',
  conversation: 'Things you remember from earlier conversations',
};

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
}): BuiltPrompt {
  const { character, budget } = input;
  const system = systemText(character);
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
    const cost = countTokens(message.content) + MESSAGE_OVERHEAD_TOKENS;
    if (used + cost > historyBudget) break;
    used += cost;
    history.unshift({ entry, message });
  }
  available -= used;

  // Memories in priority order, whole or not at all, within their share and what history left.
  const chosen = new Map<PromptMemory['kind'], PromptMemory[]>();
  let memoryUsed = 0;
  const memoryLimit = Math.min(memoryBudget + (historyBudget - used), available);
  const included: string[] = [];
  for (const memory of input.memories) {
    const headingCost = chosen.has(memory.kind) ? 0 : countTokens(MEMORY_HEADINGS[memory.kind]) + 2;
    const cost = countTokens(memory.content) + 2 + headingCost;
    if (memoryUsed + cost > memoryLimit) continue;
    memoryUsed += cost;
    chosen.set(memory.kind, [...(chosen.get(memory.kind) ?? []), memory]);
    included.push(memory.id);
  }

  const memoryText = (['lore', 'knowledge', 'conversation'] as const)
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
    droppedHistory: input.history.length - history.length,
    droppedMemories: input.memories.length - included.length,
  };
}

function systemText(character: PromptCharacter): string {
  const parts = [
    character.systemPrompt?.trim() ||
      `You are ${character.name}. Stay in character and reply as ${character.name} only, in a natural, conversational way.`,
    `${character.name}'s personality:\n${character.personalityPrompt.trim()}`,
  ];
  if (character.scenario?.trim()) parts.push(`Scenario:\n${character.scenario.trim()}`);
  if (character.exampleDialogue?.trim()) parts.push(`Examples of how ${character.name} speaks:\n${character.exampleDialogue.trim()}`);
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
  return { role: 'user', content: `${entry.speaker}: ${entry.content}`, name: safeName(entry.speaker) };
}

/** OpenAI's `name` field allows letters, digits, _ and - only, up to 64 characters. */
function safeName(name: string): string | undefined {
  const cleaned = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return /[A-Za-z0-9]/.test(cleaned) ? cleaned : undefined;
}
