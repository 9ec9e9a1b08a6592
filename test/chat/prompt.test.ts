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

  it('includes memories best first within each kind, grouped by kind, and skips what does not fit whole', () => {
    const prompt = buildPrompt({ character, history: history.slice(-4), memories, budget: { contextWindow: 1200, maxOutputTokens: 200 } });
    const included = prompt.memories;
    expect(included.length).toBeGreaterThan(0);
    expect(prompt.droppedMemories).toBe(40 - included.length);
    for (const kind of ['knowledge', 'conversation'] as const) {
      const ids = included.filter((m) => m.kind === kind).map((m) => Number(m.id.slice(1)));
      expect(ids.length).toBeGreaterThan(0);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(ids[0]).toBe(kind === 'knowledge' ? 0 : 1);
    }
    const kinds = included.map((m) => m.kind);
    expect(kinds.lastIndexOf('knowledge')).toBeLessThan(kinds.indexOf('conversation'));
    const system = prompt.messages[0]!.content;
    expect(system).toContain('Things you know:');
    expect(system).toContain('Remembered fact 0:');
    expect(system).toContain('Things you remember from earlier in this conversation:');
  });

  it('gives each kind its share first, then lets others use what one leaves', () => {
    const fact = (kind: PromptMemory['kind'], i: number, score: number): PromptMemory => ({
      id: `${kind}${i}`,
      kind,
      content: `${kind} memory ${i}: ${'word '.repeat(30)}${i}`,
      score,
    });
    // Knowledge scores higher, but conversation memories still get their share.
    const mixed = [
      ...Array.from({ length: 40 }, (_, i) => fact('knowledge', i, 0.9)),
      ...Array.from({ length: 20 }, (_, i) => fact('conversation', i, 0.3)),
    ];
    const budget = { contextWindow: 1500, maxOutputTokens: 200, kindShares: { knowledge: 0.5, conversation: 0.2, lore: 0, other: 0 } };
    const prompt = buildPrompt({ character, history: history.slice(-2), memories: mixed, budget });
    const count = (kind: string) => prompt.memories.filter((m) => m.kind === kind).length;
    expect(count('conversation')).toBeGreaterThan(0);
    // With only knowledge, knowledge fills more than its half.
    const alone = buildPrompt({ character, history: history.slice(-2), memories: mixed.slice(0, 40), budget });
    expect(alone.memories.length).toBeGreaterThan(count('knowledge'));
  });

  it('does not repeat what the recent messages already show', () => {
    const recent: HistoryEntry[] = [
      { id: 'a', role: 'user', speaker: 'Ione', content: 'My sister is called Ione and she lives by the sea in Port Calder.' },
      { id: 'b', role: 'assistant', speaker: 'Aria', content: 'What a lovely name!' },
    ];
    const candidates: PromptMemory[] = [
      { id: 'exchange-in-window', kind: 'conversation', content: 'Ione: something\nAria: else entirely', messageIds: ['x', 'b'] },
      { id: 'quoted', kind: 'knowledge', content: 'my sister is called Ione and she lives by the sea' },
      { id: 'twin-1', kind: 'knowledge', content: 'The lighthouse keeper of Port Calder is named Brannoc Vey.' },
      { id: 'twin-2', kind: 'other', content: 'The lighthouse keeper of Port Calder is named Brannoc Vey!' },
      { id: 'new', kind: 'conversation', content: 'Ione: I am allergic to peanuts.\nAria: Noted!', messageIds: ['old1', 'old2'] },
    ];
    const prompt = buildPrompt({ character, history: recent, memories: candidates, budget: { contextWindow: 4000, maxOutputTokens: 200 } });
    expect(prompt.includedMemories).toEqual(['twin-1', 'new']);
  });

  it('puts the running summary in the system prompt', () => {
    const prompt = buildPrompt({
      character,
      history: history.slice(-2),
      memories: [],
      summary: 'Ione told Aria about her sister.',
      budget: { contextWindow: 2000, maxOutputTokens: 200 },
    });
    expect(prompt.messages[0]!.content).toContain('The story so far (a summary of the earlier messages):\nIone told Aria about her sister.');
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
