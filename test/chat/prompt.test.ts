import { describe, expect, it } from 'vitest';
import { buildPrompt, PromptTooLargeError, type HistoryEntry, type PromptMemory } from '../../src/chat/prompt.js';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from '../../src/chat/tokens.js';
import { fillMacros } from '../../src/chat/macros.js';

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

const total = (messages: { content: string }[]) => messages.reduce((sum, m) => sum + countTokens(m.content) + MESSAGE_OVERHEAD_TOKENS, 0);
const systemText = (messages: { role: string; content: string }[]) =>
  messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n');

describe('buildPrompt: budget', () => {
  it('stays within the context window minus the reply, measured with the real tokenizer', () => {
    const budget = { contextWindow: 2048, maxOutputTokens: 256 };
    const prompt = buildPrompt({ character, history, memories, budget });
    expect(total(prompt.messages)).toBeLessThanOrEqual(budget.contextWindow - budget.maxOutputTokens);
    expect(prompt.promptTokens).toBe(total(prompt.messages));
    expect(prompt.droppedHistory).toBeGreaterThan(0);
    expect(prompt.includedHistory.length).toBeGreaterThan(5);
  });

  it('keeps the newest history by tokens, in order, and drops the oldest (no count limit)', () => {
    const prompt = buildPrompt({ character, history, memories: [], budget: { contextWindow: 1500, maxOutputTokens: 200 } });
    const kept = prompt.includedHistory;
    expect(kept.at(-1)).toBe('h199');
    const indexes = kept.map((id) => Number(id.slice(1)));
    expect(indexes).toEqual(indexes.map((_, i) => indexes[0]! + i));
    const large = buildPrompt({ character, history, memories: [], budget: { contextWindow: 128_000, maxOutputTokens: 1024 } });
    expect(large.includedHistory).toHaveLength(200);
  });

  it('shrinks the reply reserve before refusing, and refuses plainly below its floor', () => {
    const big = { ...character, personalityPrompt: 'word '.repeat(600) };
    const prompt = buildPrompt({
      character: big,
      history: history.slice(-1),
      memories: [],
      budget: { contextWindow: 1024, maxOutputTokens: 1024 },
    });
    expect(prompt.maxOutputTokens).toBeLessThan(1024);
    expect(prompt.maxOutputTokens).toBeGreaterThanOrEqual(256);
    expect(prompt.promptTokens + prompt.maxOutputTokens).toBeLessThanOrEqual(1024);
    const huge = { ...character, personalityPrompt: 'word '.repeat(5000) };
    expect(() => buildPrompt({ character: huge, history, memories, budget: { contextWindow: 4096, maxOutputTokens: 512 } })).toThrow(
      PromptTooLargeError,
    );
  });

  it('leaves no gap after the summary: messages after its end take the memory share before memories do', () => {
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, i));
    const dated = history.map((entry, i) => ({ ...entry, at: at(i) }));
    const budget = { contextWindow: 2500, maxOutputTokens: 200 };
    const without = buildPrompt({ character, history: dated, memories, budget });
    const summaryUpTo = at(Number(without.includedHistory[0]!.slice(1)) - 6);
    const withSummary = buildPrompt({ character, history: dated, memories, budget, summary: 'Ione and Marcus sang.', summaryUpTo });
    const first = Number(withSummary.includedHistory[0]!.slice(1));
    expect(dated[first - 1]!.at!.getTime()).toBeLessThanOrEqual(summaryUpTo.getTime());
  });

  it('includes memories best first within each kind, grouped by kind, after the main prompt, and skips what does not fit whole', () => {
    const prompt = buildPrompt({ character, history: history.slice(-4), memories, budget: { contextWindow: 1200, maxOutputTokens: 200 } });
    const included = prompt.memories;
    expect(included.length).toBeGreaterThan(0);
    expect(prompt.droppedMemories).toBe(40 - included.length);
    for (const kind of ['knowledge', 'conversation'] as const) {
      const ids = included.filter((m) => m.kind === kind).map((m) => Number(m.id.slice(1)));
      expect(ids.length).toBeGreaterThan(0);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    expect(prompt.parts[1]!.section).toBe('memories: knowledge');
    expect(prompt.messages[1]!.content).toMatch(/^Related information:\n- Remembered fact 0:/);
    expect(prompt.parts[2]!.section).toBe('memories: conversation');
  });

  it('fills what the shares leave by place in each kind’s ranking, not by raw similarity across kinds', () => {
    // Knowledge passages are long and score low; exchanges are short and score high. Recall ranked k3 above the exchanges' tail.
    const ranked: PromptMemory[] = [
      ...Array.from({ length: 4 }, (_, i) => ({
        id: `k${i}`,
        kind: 'knowledge' as const,
        content: `Passage ${i} of the guide: ${'harbour '.repeat(200)}`,
        score: 0.2,
      })),
      ...Array.from({ length: 30 }, (_, i) => ({
        id: `c${i}`,
        kind: 'conversation' as const,
        content: `Exchange ${i}: ${'tea '.repeat(20)}`,
        score: 0.6,
      })),
    ];
    const prompt = buildPrompt({
      character,
      history: history.slice(-2),
      memories: ranked,
      budget: { contextWindow: 1800, maxOutputTokens: 200, kindShares: { knowledge: 0.2, conversation: 0.2 } },
    });
    const ids = prompt.memories.map((m) => m.id);
    // The knowledge share holds one passage, the conversation's ten exchanges; what is left takes the other passages
    // (2nd to 4th of theirs) before the 11th exchange on, though every exchange scores higher.
    expect(ids.filter((id) => id.startsWith('k'))).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(ids.filter((id) => id.startsWith('c')).length).toBeLessThan(30);
  });

  it('does not repeat what the recent window already shows, compared with the window as a whole', () => {
    const recent: HistoryEntry[] = [
      { id: 'a', role: 'user', speaker: 'Ione', content: 'My sister is called Ione and she lives by the sea in Port Calder.' },
      { id: 'b', role: 'assistant', speaker: 'Aria', content: 'What a lovely name for a lovely sister!' },
    ];
    const candidates: PromptMemory[] = [
      { id: 'exchange-in-window', kind: 'conversation', content: 'Ione: something\nAria: else entirely', messageIds: ['x', 'b'] },
      { id: 'quoted', kind: 'knowledge', content: 'my sister is called Ione and she lives by the sea' },
      // Spread over both window messages: one message alone would not hold it.
      {
        id: 'spread',
        kind: 'conversation',
        content: 'Ione: she lives by the sea in Port Calder.\nAria: What a lovely name for a lovely sister!',
      },
      { id: 'heading', kind: 'knowledge', content: '## Chapter Three: The Harbour' },
      { id: 'twin-1', kind: 'knowledge', content: 'The lighthouse keeper of Port Calder is named Brannoc Vey.' },
      { id: 'twin-2', kind: 'other', content: 'The lighthouse keeper of Port Calder is named Brannoc Vey!' },
      {
        id: 'new',
        kind: 'conversation',
        content: 'Ione: I am allergic to peanuts.\nAria: Noted, no peanuts for you.',
        messageIds: ['old1', 'old2'],
      },
    ];
    const prompt = buildPrompt({ character, history: recent, memories: candidates, budget: { contextWindow: 4000, maxOutputTokens: 200 } });
    expect(prompt.includedMemories).toEqual(['twin-1', 'new']);
  });

  it('never lets a recalled lore item in: lore comes only by activation', () => {
    const prompt = buildPrompt({
      character,
      history: history.slice(-2),
      memories: [{ id: 'lore-1', kind: 'lore', content: 'The wreck holds the gold of the Sea Queen, hidden.' }],
      budget: { contextWindow: 4000, maxOutputTokens: 200 },
    });
    expect(prompt.includedMemories).toEqual([]);
    expect(systemText(prompt.messages)).not.toContain('Sea Queen');
  });
});

describe('macros (ST public/scripts/macros.js meanings)', () => {
  const base = { char: 'Aria', user: 'Alex', now: new Date('2026-12-03T15:04:00Z'), timeZone: 'UTC', random: () => 0.5 };
  it.each([
    ['{{char}} greets {{user}}', 'Aria greets Alex'],
    ['<BOT> greets <USER>', 'Aria greets Alex'],
    ['{{time}} on {{weekday}}, {{date}}', '3:04 PM on Thursday, December 3, 2026'],
    ['a{{newline}}b', 'a\nb'],
    ['keep\n{{trim}}\nthis', 'keepthis'],
    ['x{{// a note for authors}}y', 'xy'],
    ['{{random:red,green,blue}}', 'green'],
    ['{{random::a, b::c}}', 'c'],
    ['{{roll:d6}}', '4'],
    ['{{roll:2d6+1}}', '9'],
    ['{{idle_duration}}', 'just now'],
    ['{{unknown}} stays', '{{unknown}} stays'],
  ])('%s → %s', (text, expected) => expect(fillMacros(text, base)).toBe(expected));

  it('{{original}} is the replaced default once, its own macros filled; {{idle_duration}} humanizes', () => {
    expect(fillMacros('{{original}} Be brief. {{original}}', { ...base, original: 'Play {{char}}.' })).toBe('Play Aria. Be brief. ');
    expect(fillMacros('{{idle_duration}}', { ...base, previousUserMessageAt: new Date('2026-12-03T12:00:00Z') })).toBe('3 hours');
  });
});
