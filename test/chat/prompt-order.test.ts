import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPrompt, type HistoryEntry, type PromptCharacter, type PromptLore } from '../../src/chat/prompt.js';
import { activateLore } from '../../src/knowledge/lore-select.js';
import type { LoreItem } from '../../src/knowledge/lore.js';
import { fillMacros } from '../../src/chat/macros.js';
import { createProvider } from '../../src/llm/create-provider.js';
import type { ChatMessage, ProviderType } from '../../src/llm/types.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeAnthropic } from '../fakes-llm/anthropic.js';
import { startFakeOllama } from '../fakes-llm/ollama.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';

/**
 * The assembled prompt for a rich card, compared with what SillyTavern sends for the same card with its default
 * Chat Completion preset. Read from public/scripts/openai.js: the default prompt_order is main, worldInfoBefore,
 * personaDescription, charDescription, charPersonality, scenario, (enhanceDefinitions and nsfw: empty by default),
 * worldInfoAfter, dialogueExamples, chatHistory, jailbreak; populateChatCompletion lets the card's system_prompt
 * and post_history_instructions replace main and jailbreak (prefer_character_prompt/jailbreak, on by default)
 * with {{original}} standing for what they replace; setOpenAIMessageExamples splits mes_example on <START> and
 * sends each block after "[Example Chat]"; "[Start a new Chat]" opens the history; populationInjectionPrompts puts
 * depth prompts into the history. DreamChat's additions sit where ST's extensions put theirs: the summary and
 * recalled memories right after the main prompt (Summarize and Vector Storage, position "in prompt").
 */
const card: PromptCharacter = {
  name: 'Mira',
  systemPrompt: '{{original}} Stay in the voice of a ship’s navigator.',
  personalityPrompt: '{{char}} is the navigator of the Heron. She trusts {{user}}.',
  personality: 'dry, precise, loyal',
  scenario: '{{user}} and {{char}} share the night watch.',
  exampleDialogue: '<START>\n{{user}}: Where are we?\n{{char}}: Two days out of Veyra.\n<START>\n{{user}}: Storm?\n{{char}}: By dawn.',
  postHistoryInstructions: '{{original}}Reply in one short paragraph.',
  depthPrompt: { prompt: '{{char}} is tired tonight.', depth: 2, role: 'system' },
};

const item = (id: string, entry: Partial<LoreItem['entry']>): LoreItem => ({ id, name: id, entry: { keys: [], content: id, ...entry } });
const book: LoreItem[] = [
  item('world', { constant: true, content: 'The sea of Veyra is cold.', position: 'before_char', insertionOrder: 10 }),
  item('heron', { keys: ['Heron'], caseSensitive: true, content: 'The Heron is a two-masted brig.', position: 'after_char' }),
  item('wreck', { keys: ['wreck'], secondaryKeys: ['gold'], selective: true, content: 'The wreck hides the Sea Queen’s gold.' }),
  item('storm', { keys: ['storm'], content: 'Storms here come with the lighthouse dark.', position: 'at_depth', depth: 1, role: 'user' }),
  item('lighthouse', { keys: ['lighthouse'], content: 'The lighthouse keeper is Brannoc.', position: 'before_char', insertionOrder: 50 }),
];

const oneToOne: HistoryEntry[] = [
  { id: '1', role: 'assistant', speaker: 'Mira', content: 'Evening, Alex.' },
  { id: '2', role: 'user', speaker: 'Alex', content: 'Evening. Is the Heron ready?', authorId: 'u-alex' },
  { id: '3', role: 'assistant', speaker: 'Mira', content: 'Ready as she will ever be.' },
  { id: '4', role: 'user', speaker: 'Alex', content: 'Will a storm hit the Heron? Is there gold in the wreck?', authorId: 'u-alex' },
];

function assemble(history: HistoryEntry[], user: string, cast?: string[]) {
  const substitute = (text: string) => fillMacros(text, { char: card.name, user });
  const activated = activateLore(book, {
    messages: history.map((entry) => `${entry.speaker}: ${entry.content}`),
    budgetTokens: 2000,
    substitute,
  }).entries;
  const lore: PromptLore[] = activated.map((entry) => ({
    id: entry.item.id,
    content: entry.content,
    position: entry.position,
    depth: entry.depth,
    role: entry.role,
  }));
  return buildPrompt({
    character: card,
    history,
    memories: [{ id: 'm1', kind: 'knowledge', content: 'Veyra’s harbour freezes every winter, from December to March.' }],
    lore,
    summary: 'Alex joined the Heron in spring.',
    budget: { contextWindow: 8192, maxOutputTokens: 512 },
    macros: { user },
    cast,
  });
}

describe('the assembled prompt, in SillyTavern’s order', () => {
  it('one-to-one: every section where ST puts it, macros filled, examples split, lore by its keys only', () => {
    const prompt = assemble(oneToOne, 'Alex');
    expect(prompt.parts.map((part) => part.section)).toEqual([
      'main prompt',
      'summary',
      'memories: knowledge',
      'world info (before)',
      'description',
      'personality',
      'scenario',
      'world info (after)',
      'examples',
      'examples',
      'examples',
      'examples',
      'examples',
      'examples',
      'chat start',
      'history',
      'history',
      'depth injection',
      'history',
      'depth injection',
      'history',
      'post-history instructions',
    ]);
    expect(prompt.messages).toEqual([
      {
        role: 'system',
        content: "Write Mira's next reply in a fictional chat between Mira and Alex. Stay in the voice of a ship’s navigator.",
      },
      { role: 'system', content: '[Summary: Alex joined the Heron in spring.]' },
      { role: 'system', content: 'Related information:\n- Veyra’s harbour freezes every winter, from December to March.' },
      // Lower insertion order first: world (10, constant), lighthouse (50, found by recursion in the storm entry's
      // text), wreck (100: "wreck" and its secondary key "gold" both in the last two messages).
      { role: 'system', content: 'The sea of Veyra is cold.\nThe lighthouse keeper is Brannoc.\nThe wreck hides the Sea Queen’s gold.' },
      { role: 'system', content: 'Mira is the navigator of the Heron. She trusts Alex.' },
      { role: 'system', content: 'dry, precise, loyal' },
      { role: 'system', content: 'Alex and Mira share the night watch.' },
      { role: 'system', content: 'The Heron is a two-masted brig.' },
      { role: 'system', content: '[Example Chat]' },
      { role: 'system', name: 'example_user', content: 'Alex: Where are we?' },
      { role: 'system', name: 'example_assistant', content: 'Mira: Two days out of Veyra.' },
      { role: 'system', content: '[Example Chat]' },
      { role: 'system', name: 'example_user', content: 'Alex: Storm?' },
      { role: 'system', name: 'example_assistant', content: 'Mira: By dawn.' },
      { role: 'system', content: '[Start a new Chat]' },
      { role: 'assistant', content: 'Evening, Alex.' },
      { role: 'user', content: 'Evening. Is the Heron ready?' },
      // The card's depth_prompt at depth 2 (two messages from the end), as system.
      { role: 'system', content: 'Mira is tired tonight.' },
      { role: 'assistant', content: 'Ready as she will ever be.' },
      // The at-depth entry at depth 1 with its role (user).
      { role: 'user', content: 'Storms here come with the lighthouse dark.' },
      { role: 'user', content: 'Will a storm hit the Heron? Is there gold in the wreck?' },
      { role: 'system', content: 'Reply in one short paragraph.' },
    ]);
    // Without their keys, none of them comes in (the constant entry does).
    const quiet = assemble([{ id: '9', role: 'user', speaker: 'Alex', content: 'Good evening.' }], 'Alex');
    const text = quiet.messages.map((m) => m.content).join('\n');
    expect(text).not.toContain('Sea Queen');
    expect(text).not.toContain('Brannoc');
    expect(text).not.toContain('two-masted');
    expect(text).toContain('The sea of Veyra is cold.');
    // "wreck" without "gold" is not enough for the selective entry.
    const noGold = assemble([{ id: '9', role: 'user', speaker: 'Alex', content: 'Is there a wreck near?' }], 'Alex');
    expect(noGold.messages.map((m) => m.content).join('\n')).not.toContain('Sea Queen');
  });

  it('several people: {{user}} is the person answered, names on every line, ST’s group-chat start line', () => {
    const history: HistoryEntry[] = [
      ...oneToOne.slice(0, 3),
      { id: '5', role: 'user', speaker: 'Bob', content: 'Bob here, just listening.', authorId: 'u-bob' },
      { id: '6', role: 'user', speaker: 'Alex', content: 'Mira, what now?', authorId: 'u-alex' },
    ];
    const prompt = assemble(history, 'Alex');
    const byText = (start: string) => prompt.messages.find((m) => m.content.startsWith(start));
    expect(prompt.messages[0]!.content).toBe(
      "Write Mira's next reply in a fictional chat between Mira, Bob and Alex. Stay in the voice of a ship’s navigator.",
    );
    expect(byText('Mira is the navigator')!.content).toBe('Mira is the navigator of the Heron. She trusts Alex.');
    expect(byText('[Start a new group chat')!.content).toBe('[Start a new group chat. Group members: Mira, Bob]');
    expect(prompt.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([
      'Alex: Evening. Is the Heron ready?',
      'Bob: Bob here, just listening.',
      'Alex: Mira, what now?',
    ]);
    expect(prompt.messages.some((m) => /several people/i.test(m.content))).toBe(false);
  });
});

describe('{{group}} in a scene', () => {
  // ST's substituteParams: environment.group = environment.charIfNotGroup = getGroupValue(true), the group's
  // members by name, muted ones included (public/script.js); "[Start a new group chat. Group members: {{group}}]"
  // is its default new_group_chat_prompt (public/scripts/openai.js).
  it('lists the whole cast in the order it joined, also members who have not spoken yet, then other people', () => {
    const history: HistoryEntry[] = [
      { id: '1', role: 'user', speaker: 'Alex', content: 'Evening, all.', authorId: 'u-alex' },
      { id: '2', role: 'assistant', speaker: 'Mira', content: 'Evening, Alex.' },
      { id: '3', role: 'user', speaker: 'Bob', content: 'Hi.', authorId: 'u-bob' },
    ];
    const prompt = assemble(history, 'Alex', ['Tamsin', 'Mira', 'Corvin']);
    const start = prompt.messages.find((m) => m.content.startsWith('[Start a new group chat'));
    expect(start!.content).toBe('[Start a new group chat. Group members: Tamsin, Mira, Corvin, Bob]');
    expect(prompt.messages[0]!.content).toContain('between Tamsin, Mira, Corvin, Bob and Alex');
  });

  it('a scene of one character is still a group chat, with names on the lines', () => {
    const history: HistoryEntry[] = [{ id: '1', role: 'user', speaker: 'Alex', content: 'Evening.', authorId: 'u-alex' }];
    const prompt = assemble(history, 'Alex', ['Mira']);
    expect(prompt.messages.some((m) => m.content === '[Start a new group chat. Group members: Mira]')).toBe(true);
    expect(prompt.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['Alex: Evening.']);
  });
});

describe('vendor adapters keep positions and roles (real SDKs against loopback fakes)', () => {
  const servers: Partial<Record<ProviderType, FakeServer>> = {};
  beforeAll(async () => {
    servers.openai = await startFakeOpenAI();
    servers.anthropic = await startFakeAnthropic();
    servers.ollama = await startFakeOllama();
  });
  afterAll(async () => {
    for (const server of Object.values(servers)) await server?.close();
  });

  async function send(type: ProviderType, messages: ChatMessage[]) {
    const server = servers[type]!;
    server.reset();
    server.reply('Aye.');
    const provider = createProvider({
      type,
      name: 'Test',
      config: { baseUrl: server.url, apiKey: 'sk-test-1234567890', timeoutMs: 5000, maxRetries: 0 },
      policy: { allowPrivate: true },
    });
    const stream = provider.stream({
      model: type === 'anthropic' ? 'claude-sonnet-4-5' : 'm',
      messages,
      maxTokens: 64,
      names: { user: 'Alex', char: 'Mira' },
      contextWindow: 8192,
    });
    for await (const _ of stream) void _;
    return server.requests.at(-1)!.body;
  }

  it('OpenAI: the messages exactly as assembled, system messages in place, example names kept', async () => {
    const prompt = assemble(oneToOne, 'Alex');
    const body = await send('openai', prompt.messages);
    expect(body.messages).toEqual(JSON.parse(JSON.stringify(prompt.messages)));
    expect(body.max_completion_tokens).toBe(64);
  });

  it('Ollama: every message in place with its role, and the context size as num_ctx', async () => {
    const prompt = assemble(oneToOne, 'Alex');
    const body = await send('ollama', prompt.messages);
    expect(body.messages).toEqual(prompt.messages.map(({ role, content }) => ({ role, content })));
    expect(body.options).toMatchObject({ num_ctx: 8192, num_predict: 64 });
  });

  it('Anthropic: leading system messages are the system prompt; later ones stay after the history as user blocks', async () => {
    const prompt = assemble(oneToOne, 'Alex');
    const body = await send('anthropic', prompt.messages);
    const leading = prompt.messages.slice(
      0,
      prompt.messages.findIndex((m) => m.role !== 'system'),
    );
    expect(body.system).toEqual(leading.map((m) => ({ type: 'text', text: m.content })));
    // convertClaudeMessages: the first non-system message is Mira's greeting, so Claude gets ST's placeholder first.
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: "Let's get started." }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Evening, Alex.' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Evening. Is the Heron ready?' },
          { type: 'text', text: 'Mira is tired tonight.' },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'Ready as she will ever be.' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Storms here come with the lighthouse dark.' },
          { type: 'text', text: 'Will a storm hit the Heron? Is there gold in the wreck?' },
          // Post-history instructions: after the history, the last block of the last user turn; never in `system`.
          { type: 'text', text: 'Reply in one short paragraph.' },
        ],
      },
    ]);
    expect(JSON.stringify(body.system)).not.toContain('one short paragraph');
  });
});

describe('notes about the person and pinned messages', () => {
  it('go right after the summary, before recalled memories (where ST’s memory extensions put theirs), within small budgets', () => {
    const prompt = buildPrompt({
      character: { name: 'Mira', personalityPrompt: '{{char}} navigates.' },
      history: oneToOne,
      memories: [{ id: 'm1', kind: 'knowledge', content: 'Veyra’s harbour freezes in winter.' }],
      summary: 'Alex joined the Heron in spring.',
      notes: [
        { id: 'n1', content: 'Has a sister named Ione.' },
        { id: 'n2', content: 'Owes Mira a bottle of rum.', persona: 'Zara' },
      ],
      pins: [
        { id: 'p1', speaker: 'Alex', content: 'The vault code is 4471.' },
        // In the recent window already: not repeated.
        { id: '2', speaker: 'Alex', content: 'Evening. Is the Heron ready?' },
      ],
      budget: { contextWindow: 8192, maxOutputTokens: 512 },
      macros: { user: 'Alex' },
    });
    expect(prompt.parts.slice(0, 5).map((part) => part.section)).toEqual([
      'main prompt',
      'summary',
      'notes',
      'pinned messages',
      'memories: knowledge',
    ]);
    expect(prompt.messages[2]!.content).toBe(
      'What Mira knows about Alex:\n- Has a sister named Ione.\n- (as Zara) Owes Mira a bottle of rum.',
    );
    expect(prompt.messages[3]!.content).toBe('Pinned messages:\n- Alex: The vault code is 4471.');
    expect(prompt.includedNotes).toEqual(['n1', 'n2']);
    expect(prompt.includedPins).toEqual(['p1']);
    // Many notes: only what fits the notes' budget goes in, newest (first given) first.
    const many = buildPrompt({
      character: { name: 'Mira', personalityPrompt: 'x' },
      history: oneToOne,
      memories: [],
      notes: Array.from({ length: 40 }, (_, i) => ({ id: `n${i}`, content: `A fact of some length, number ${i}, about the person.` })),
      budget: { contextWindow: 8192, maxOutputTokens: 512 },
    });
    expect(many.includedNotes.length).toBeGreaterThan(5);
    expect(many.includedNotes.length).toBeLessThan(40);
    expect(many.includedNotes[0]).toBe('n0');
    expect(many.parts.find((part) => part.section === 'notes')!.tokens).toBeLessThanOrEqual(300);
  });
});
