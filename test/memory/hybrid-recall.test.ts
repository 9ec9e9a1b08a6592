import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recall, type RetrievalOptions } from '../../src/chat/retrieval.js';
import { Character, Conversation, User, type ICharacter, type IConversation } from '../../src/db/entities/index.js';
import type { Embedder } from '../../src/embeddings/embedder.js';
import { fuseRanks, orQuery, searchText } from '../../src/memory/text-search.js';
import { insertMemories } from '../../src/memory/vector-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DIMENSION = 8;
let db: TestDatabase;
let character: ICharacter;
let conversation: IConversation;
const em = () => db.orm.em.fork();

/** Every text points the same way but the one about Wilhelmina, which points away: a model that missed the name. */
const unit = (sign: number) => Array.from({ length: DIMENSION }, (_, i) => (i === 0 ? sign : 0.01 * i));
const embedder: Embedder = {
  id: 'test-blind',
  dimension: DIMENSION,
  embed: async (texts) => texts.map((text) => unit(text.startsWith('ione: My sister is Wilhelmina') ? -1 : 1)),
};
const TARGET = 'ione: My sister is Wilhelmina, she keeps bees in the valley.';
const OPTIONS: RetrievalOptions = {
  knowledge: { k: 0, minSimilarity: 0.2 },
  conversation: { k: 4, minSimilarity: 0.2 },
  other: { k: 0, minSimilarity: 0.3 },
};

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  const work = em();
  const user = work.create(User, { discordId: '231000000000000001' });
  character = work.create(Character, { user, name: 'Aria', personalityPrompt: 'A bard.' }) as ICharacter;
  conversation = work.create(Conversation, { discordChannelId: '231000000000000002', character }) as IConversation;
  await work.flush();
  const chatter = Array.from({ length: 30 }, (_, i) => `ione: Small talk number ${i} about the weather and the market.`);
  const texts = [TARGET, ...chatter, 'ione: My sisters both sing in the choir.'];
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

describe('hybrid recall (full text beside pgvector)', () => {
  const ask = (content: string, options: RetrievalOptions = OPTIONS) =>
    recall(em(), embedder, {
      characterId: character.id,
      conversationId: conversation.id,
      recent: [{ id: 'q', role: 'user', speaker: 'ione', content }],
      shared: 'off',
      options,
    });

  it('finds by a rare name what the vectors alone miss', async () => {
    const vectorsOnly = await ask('Tell me again about Wilhelmina?', { ...OPTIONS, fullText: false });
    expect(vectorsOnly.map((memory) => memory.content)).not.toContain(TARGET);
    const hybrid = await ask('Tell me again about Wilhelmina?');
    expect(hybrid.map((memory) => memory.content)).toContain(TARGET);
    expect(hybrid).toHaveLength(4);
  });

  it('matches words by their stem and ranks rows with more matching words first', async () => {
    const hits = await searchText(em(), 'Who are my sister and her bees?', { conversationId: conversation.id }, { k: 5 });
    expect(hits.map((hit) => hit.content)).toEqual([TARGET, 'ione: My sisters both sing in the choir.']);
    expect(hits[0]!.rank).toBeGreaterThan(hits[1]!.rank);
    // Stop words and punctuation alone find nothing, and odd input never breaks the query.
    expect(await searchText(em(), 'and the or of?!', { conversationId: conversation.id }, { k: 5 })).toEqual([]);
    expect(await searchText(em(), `'"):*&|!<-> \\ wilhelmina`, { conversationId: conversation.id }, { k: 5 })).toHaveLength(1);
  });

  it('fuses ranked lists by reciprocal rank: what both rank well comes first', () => {
    const a = { id: 'a' };
    const b = { id: 'b' };
    const c = { id: 'c' };
    const fused = fuseRanks([
      [a, b],
      [c, b],
    ]);
    expect(fused.map(({ item }) => item.id)).toEqual(['b', 'a', 'c']);
    expect(fused[0]!.score).toBeCloseTo(1 / 62 + 1 / 62);
    expect(orQuery('Or, where is Wilhelmina? where')).toBe('where or is or wilhelmina');
  });
});
