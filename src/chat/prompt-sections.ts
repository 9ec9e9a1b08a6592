import type { ChatMessage, HistoryEntry } from './prompt.js';

/** SillyTavern's chat-completion defaults (public/scripts/openai.js, `default_*` and the default prompt list). */
export const ST_DEFAULTS = {
  main: "Write {{char}}'s next reply in a fictional chat between {{charIfNotGroup}} and {{user}}.",
  newChat: '[Start a new Chat]',
  newGroupChat: '[Start a new group chat. Group members: {{group}}]',
  newExampleChat: '[Example Chat]',
  continueNudge: '[Continue your last message without repeating its original content.]',
  /** The Summarize extension's template (default/content/settings.json, extension_settings.memory.template). */
  summary: '[Summary: {{summary}}]',
  /** script.js: a card's depth_prompt goes in at depth 4 as system unless it says otherwise. */
  depthPromptDepth: 4,
  /** The Author's Note (where an_top / an_bottom lore goes) sits at depth 4 as system by default (authors-note.js). */
  authorsNoteDepth: 4,
} as const;

/** One message of a dialogue example, as ST's `parseExampleIntoIndividual` makes it. */
export interface ExampleMessage extends ChatMessage {
  role: 'system';
  name: 'example_user' | 'example_assistant';
}

/**
 * The card's example dialogue as ST sends it: blocks split on <START> (the marker itself is never sent), each
 * block's lines grouped into messages by the speaker prefixes "{{user}}:" and "{{char}}:" (already filled), as
 * system messages named example_user / example_assistant. The speaker's name stays at the start of the content,
 * so vendors without a `name` field (Anthropic, Ollama) still see who speaks; ST's Claude converter adds it there.
 */
export function exampleBlocks(text: string | null | undefined, names: { user: string; char: string }): ExampleMessage[][] {
  if (!text?.trim()) return [];
  return text
    .replace(/\r/g, '')
    .split(/<START>/i)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block) => {
      const messages: ExampleMessage[] = [];
      let current: { name: ExampleMessage['name']; lines: string[] } | undefined;
      const flush = () => {
        const content = current?.lines.join('\n').trim();
        if (current && content) messages.push({ role: 'system', name: current.name, content });
      };
      for (const line of block.split('\n')) {
        const speaker = line.startsWith(`${names.user}:`)
          ? 'example_user'
          : line.startsWith(`${names.char}:`)
            ? 'example_assistant'
            : undefined;
        if (speaker && speaker !== current?.name) {
          flush();
          current = { name: speaker, lines: [] };
        }
        if (!current) current = { name: 'example_assistant', lines: [] };
        current.lines.push(line);
      }
      flush();
      return messages;
    })
    .filter((messages) => messages.length > 0);
}

/** Something put into the history at a depth (ST's extension prompts IN_CHAT). */
export interface DepthInjection {
  depth: number;
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * ST's `populationInjectionPrompts` (openai.js): for each depth, the injections of one role are joined with new
 * lines into one message; the messages go in `depth` messages from the end, and at one depth the order is
 * assistant, user, system (system closest to the end: "most important go lower"). A depth beyond the history
 * puts them at its start.
 */
export function injectAtDepth(history: ChatMessage[], injections: DepthInjection[]): ChatMessage[] {
  const reversed = [...history].reverse();
  let inserted = 0;
  const depths = [...new Set(injections.map((injection) => injection.depth))].sort((a, b) => a - b);
  for (const depth of depths) {
    const roleMessages: ChatMessage[] = [];
    for (const role of ['system', 'user', 'assistant'] as const) {
      const content = injections
        .filter((injection) => injection.depth === depth && injection.role === role && injection.content.trim())
        .map((injection) => injection.content.trim())
        .join('\n');
      if (content) roleMessages.push({ role, content });
    }
    if (!roleMessages.length) continue;
    reversed.splice(Math.min(depth + inserted, reversed.length), 0, ...roleMessages);
    inserted += roleMessages.length;
  }
  return reversed.reverse();
}

/**
 * A stored message as the model reads it. The character's own past replies are the assistant's. People's lines
 * are the user's; when several people (or other characters, in scenes) talk, each line starts with its author's
 * name and carries it in `name` (ST's group-chat behaviour); one-to-one, the line is sent as written.
 */
export function historyMessage(entry: HistoryEntry, characterName: string, named: boolean): ChatMessage {
  if (entry.role === 'assistant' && entry.speaker === characterName) return { role: 'assistant', content: entry.content };
  if (entry.role === 'system') return { role: 'system', content: entry.content };
  const images = entry.images?.length ? { images: entry.images } : {};
  if (!named) return { role: 'user', content: entry.content, ...images };
  return { role: 'user', content: `${entry.speaker}: ${entry.content}`, name: safeName(entry.speaker), ...images };
}

/** OpenAI's `name` field allows letters, digits, _ and - only, up to 64 characters. */
function safeName(name: string): string | undefined {
  const cleaned = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return /[A-Za-z0-9]/.test(cleaned) ? cleaned : undefined;
}
