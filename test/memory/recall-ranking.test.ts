import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPrompt, type HistoryEntry } from '../../src/chat/prompt.js';
import { DEFAULT_RETRIEVAL, onlyAsked, recall, type RetrievalOptions } from '../../src/chat/retrieval.js';
import { Character, Conversation, User, type ICharacter, type IConversation } from '../../src/db/entities/index.js';
import type { Embedder } from '../../src/embeddings/embedder.js';
import { insertMemories } from '../../src/memory/vector-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DIMENSION = 4;
let db: TestDatabase;
let character: ICharacter;
let conversation: IConversation;
const em = () => db.orm.em.fork();

const QUESTION = 'What does my father do for work?';
const ASKED = 'Nell: What does my dad do again?\nWren: Now let me think, you did tell me that once.';
const TOLD = 'Nell: That clock is slow. My dad, Emrys, repairs clocks for a living.\nWren: Tell Emrys my clock needs him.';
/** Vectors by text: the earlier question is nearer the new one than the exchange that answered it, as with a real model. */
const VECTORS: Record<string, number[]> = {
  [QUESTION]: [1, 0, 0, 0],
  [ASKED]: [0.95, 0.31, 0, 0],
  [TOLD]: [0.8, 0, 0.6, 0],
};
/** Filler about other things, each a little less near the question than the last. */
const filler = (i: number) => `Nell: Small talk number ${i} about the weather and the market.\nWren: Fancy that.`;
const fillerVector = (i: number) => {
  const x = 0.7 - i * 0.005;
  return [x, 0, 0, Math.sqrt(1 - x * x)];
};
const FILLER = Array.from({ length: 60 }, (_, i) => filler(i));
const embedder: Embedder = {
  id: 'test-table',
  dimension: DIMENSION,
  embed: async (texts) => texts.map((text) => VECTORS[text] ?? fillerVector(FILLER.indexOf(text))),
};
const VECTORS_ONLY: RetrievalOptions = { ...DEFAULT_RETRIEVAL, fullText: false };

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  const work = em();
  const user = work.create(User, { discordId: '231500000000000001' });
  character = work.create(Character, { user, name: 'Wren', personalityPrompt: 'A tea shop keeper.' }) as ICharacter;
  conversation = work.create(Conversation, { discordChannelId: '231500000000000002', character }) as IConversation;
  await work.flush();
  const texts = [ASKED, TOLD, ...FILLER];
  await insertMemories(
    work,
    (await embedder.embed(texts)).map((embedding, i) => ({
      content: texts[i]!,
      embedding,
      memoryType: 'conversation' as const,
      conversationId: conversation.id,
      characterId: character.id,
    })),
  );
});
afterAll(() => db?.close());

const ask = (options: RetrievalOptions) =>
  recall(em(), embedder, {
    characterId: character.id,
    conversationId: conversation.id,
    recent: [{ id: 'q', role: 'user', speaker: 'Nell', content: QUESTION }],
    shared: 'off',
    options,
  });

describe('how recall ranks what it finds', () => {
  it('puts an exchange in which the person only asked below the one that told the fact, even when it is nearer', async () => {
    for (const options of [VECTORS_ONLY, DEFAULT_RETRIEVAL]) {
      const contents = (await ask(options)).map((memory) => memory.content);
      expect(contents[0]).toBe(TOLD);
      // Halved, its fused score is that of about the 60th hit: after the exchanges that say something, or left out.
      expect(contents.slice(0, 40)).not.toContain(ASKED);
    }
  });

  it('hands the prompt builder more than a handful of exchanges above the floor, so the budget decides what fits', async () => {
    // 62 exchanges above the 0.2 floor: the default takes 48 (the prompt keeps what fits its share, best first).
    const conversation = (await ask(VECTORS_ONLY)).filter((memory) => memory.kind === 'conversation');
    expect(conversation).toHaveLength(DEFAULT_RETRIEVAL.conversation.k);
    expect(DEFAULT_RETRIEVAL.conversation.k).toBeGreaterThanOrEqual(40);
  });

  it('recalls an exchange of a message the history holds but a small context cannot show, and does not repeat one it shows', async () => {
    // A long conversation: 300 messages fetched, the fact told in the 11th and 12th, the question last.
    const work = em();
    const long = work.create(Conversation, { discordChannelId: '231500000000000003', character: character.id }) as IConversation;
    await work.flush();
    await insertMemories(work, [
      {
        content: TOLD,
        embedding: VECTORS[TOLD]!,
        memoryType: 'conversation',
        conversationId: long.id,
        characterId: character.id,
        metadata: { messageIds: ['h10', 'h11'] },
      },
    ]);
    const history: HistoryEntry[] = Array.from({ length: 300 }, (_, i) => ({
      id: `h${i}`,
      role: i % 2 ? 'assistant' : 'user',
      speaker: i % 2 ? 'Wren' : 'Nell',
      content: i === 299 ? QUESTION : `Line ${i} about the weather and the market, and nothing else.`,
    }));
    const recalled = await recall(em(), embedder, { characterId: character.id, conversationId: long.id, recent: history, shared: 'off' });
    expect(recalled.map((memory) => memory.content)).toContain(TOLD);
    const told = recalled.find((memory) => memory.content === TOLD)!;
    const promptAt = (contextWindow: number) =>
      buildPrompt({
        character: { name: 'Wren', personalityPrompt: 'A tea shop keeper.' },
        history,
        memories: recalled,
        budget: { contextWindow, maxOutputTokens: 256 },
      });
    // 4k holds the newest 100 or so: the 11th message is not shown, so the exchange comes back as a memory.
    const small = promptAt(4096);
    expect(small.includedHistory).not.toContain('h10');
    expect(small.includedMemories).toContain(told.id);
    // 128k shows the whole history: the exchange is there already and is not repeated.
    const large = promptAt(128_000);
    expect(large.includedHistory).toContain('h10');
    expect(large.includedMemories).not.toContain(told.id);
  });

  it('tells an exchange that only asked from one that said something', () => {
    expect(onlyAsked(ASKED)).toBe(true);
    expect(onlyAsked(TOLD)).toBe(false);
    expect(onlyAsked('Nell: Is it Tuesday?\nTobias: I moved to Lisbon?\nWren: Who knows.')).toBe(true);
    expect(onlyAsked('Nell: I moved. Guess where?\nWren: Lisbon?')).toBe(false);
    expect(onlyAsked('A knowledge chunk that ends with a question?')).toBe(false);
  });
});
