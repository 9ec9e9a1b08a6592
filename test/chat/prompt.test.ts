import { describe, expect, it } from 'vitest';
import { buildPrompt, PromptTooLargeError, type HistoryEntry, type PromptMemory } from '../../src/chat/prompt.js';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from '../../src/chat/tokens.js';

const character = {
  name: 'Aria',
  personalityPrompt: 'A cheerful bard who loves old songs and bad puns.',
  scenario: 'A tavern on a rainy night.',
  postHistoryInstructions: 'Answer in two sentences at most.',
};

const history: HistoryEntry[] = Array.from({ length: 200 }, (_, i) => ({
  id: `h${i}`,
  role: i % 2 ? 'assistant' : 'user',
  speaker: i % 2 ? 'Aria' : i % 4 === 0 ? 'Ione' : 'Marcus',
  content: `Message number ${i}: ${'la '.repeat(20 + (i % 7))}`,
}));

const memories: PromptMemory[] = Array.from({ length: 40 }, (_, i) => ({
  id: `m${i}`,
  kind: i % 3 === 0 ? 'knowledge' : 'conversation',
  content: `Remembered fact ${i}: ${'detail '.repeat(15)}`,
}));

const total = (messages: { content: string }[]) =>
  messages.reduce((sum, m) => sum + countTokens(m.content) + MESSAGE_OVERHEAD_TOKENS, 0);

describe('buildPrompt', () => {
  it('stays within the context window minus the reply, measured with the real tokenizer', () => {
    const budget = { contextWindow: 2048, maxOutputTokens: 256 };
    const prompt = buildPrompt({ character, history, memories, budget });
    expect(total(prompt.messages)).toBeLessThanOrEqual(budget.contextWindow - budget.maxOutputTokens);
    expect(prompt.promptTokens).toBeLessThanOrEqual(budget.contextWindow - budget.maxOutputTokens);
    expect(prompt.droppedHistory).toBeGreaterThan(0);
    expect(prompt.includedHistory.length).toBeGreaterThan(5);
  });

  it('keeps the newest history, in order, and drops the oldest', () => {
    const prompt = buildPrompt({ character, history, memories: [], budget: { contextWindow: 1500, maxOutputTokens: 200 } });
    const kept = prompt.includedHistory;
    expect(kept.at(-1)).toBe('h199');
    const indexes = kept.map((id) => Number(id.slice(1)));
    expect(indexes).toEqual(indexes.map((_, i) => indexes[0]! + i));
  });

  it('includes memories in priority order and skips what does not fit whole', () => {
    const prompt = buildPrompt({ character, history: history.slice(-4), memories, budget: { contextWindow: 1200, maxOutputTokens: 200 } });
    const included = prompt.includedMemories.map((id) => Number(id.slice(1)));
    expect(included.length).toBeGreaterThan(0);
    expect(included).toEqual([...included].sort((a, b) => a - b));
    expect(included[0]).toBe(0);
    expect(prompt.droppedMemories).toBe(40 - included.length);
    const system = prompt.messages[0]!.content;
    expect(system).toContain('Things you know:');
    expect(system).toContain('Remembered fact 0:');
  });

  it('never cuts the system prompt: it is whole or the build fails clearly', () => {
    const prompt = buildPrompt({ character, history, memories, budget: { contextWindow: 400, maxOutputTokens: 100 } });
    expect(prompt.messages[0]!.content).toContain(character.personalityPrompt);
    expect(prompt.messages[0]!.content).toContain(character.scenario);
    expect(prompt.messages.at(-1)).toEqual({ role: 'system', content: character.postHistoryInstructions });
    const huge = { ...character, personalityPrompt: 'word '.repeat(5000) };
    expect(() => buildPrompt({ character: huge, history, memories, budget: { contextWindow: 4096, maxOutputTokens: 512 } })).toThrow(
      PromptTooLargeError,
    );
  });

  it('tells several people apart by name and keeps the character’s own lines as the assistant', () => {
    const prompt = buildPrompt({
      character,
      history: [
        { id: '1', role: 'user', speaker: 'Ione', content: 'I am allergic to peanuts.' },
        { id: '2', role: 'user', speaker: 'Marcus', content: 'I love peanuts!' },
        { id: '3', role: 'assistant', speaker: 'Aria', content: 'Noted, both of you.' },
        { id: '4', role: 'assistant', speaker: 'Borin', content: 'Peanuts? Bah.' },
      ],
      memories: [],
      budget: { contextWindow: 8192, maxOutputTokens: 512 },
    });
    expect(prompt.messages.slice(1, 5)).toEqual([
      { role: 'user', content: 'Ione: I am allergic to peanuts.', name: 'Ione' },
      { role: 'user', content: 'Marcus: I love peanuts!', name: 'Marcus' },
      { role: 'assistant', content: 'Noted, both of you.' },
      { role: 'user', content: 'Borin: Peanuts? Bah.', name: 'Borin' },
    ]);
  });
});
