import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recall } from '../../src/chat/retrieval.js';
import { Character, CharacterKnowledge, User, type ICharacter } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { insertMemories, searchMemories } from '../../src/memory/vector-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DIMENSION = 256;
const embedder = new HashingEmbedder(DIMENSION);
let db: TestDatabase;
let character: ICharacter;
const em = () => db.orm.em.fork();

const KEYWORD_LORE = 'The Veyra lighthouse keeper Orin guards the northern harbour lamp.';
const VECTOR_LORE = 'The Veyra lighthouse lamp burns whale oil from the northern harbour.';
const FILE_CHUNK = 'Notes on the Veyra lighthouse: its keeper rings the harbour bell at dusk.';

/**
 * SillyTavern's world info (public/scripts/world-info.js, checkWorldInfo) activates an entry by its keys; only
 * entries flagged `vectorized` are also found by the vector extension (extensions/vectors, getWorldInfoPrompt's
 * "vectorized" filter). Lore entries here are embedded like files, so recall must leave the others out.
 */
describe('vector recall and lore', () => {
  beforeAll(async () => {
    db = await createTestDatabase({ embeddingDimension: DIMENSION });
    const work = em();
    const user = work.create(User, { discordId: '210000000000000001' });
    character = work.create(Character, { user, name: 'Aria', personalityPrompt: 'A bard.' }) as ICharacter;
    const lore = (content: string, vectorized?: boolean) =>
      work.create(CharacterKnowledge, {
        character,
        name: content.slice(0, 20),
        sourceType: 'manual',
        sourceName: 'lore.txt',
        status: 'completed',
        metadata: { inline: content, lore: { keys: ['veyra'], ...(vectorized === undefined ? {} : { vectorized }) } },
      });
    const keywordOnly = lore(KEYWORD_LORE);
    const keywordFalse = lore(`${KEYWORD_LORE} Always.`, false);
    const vectorized = lore(VECTOR_LORE, true);
    const file = work.create(CharacterKnowledge, {
      character,
      name: 'notes.txt',
      sourceType: 'file',
      sourceName: 'notes.txt',
      status: 'completed',
      metadata: {},
    });
    await work.flush();
    const texts = [KEYWORD_LORE, `${KEYWORD_LORE} Always.`, VECTOR_LORE, FILE_CHUNK];
    const vectors = await embedder.embed(texts);
    await insertMemories(
      work,
      [keywordOnly, keywordFalse, vectorized, file].map((item, i) => ({
        content: texts[i]!,
        embedding: vectors[i]!,
        memoryType: 'character' as const,
        characterId: character.id,
        knowledgeId: item.id,
      })),
    );
  });
  afterAll(() => db?.close());

  it('never brings back a keyword-only lore entry, and still brings back vectorized ones and files', async () => {
    const memories = await recall(em(), embedder, {
      characterId: character.id,
      conversationId: '00000000-0000-4000-8000-000000000000',
      recent: [{ id: 'q', role: 'user', speaker: 'ione', content: 'Who keeps the Veyra lighthouse and guards the northern harbour lamp?' }],
      shared: 'off',
    });
    const texts = memories.map((memory) => memory.content);
    expect(texts).toContain(VECTOR_LORE);
    expect(texts).toContain(FILE_CHUNK);
    expect(texts.some((text) => text.startsWith(KEYWORD_LORE))).toBe(false);
  });

  it('leaves them out in the search itself, so they take no candidate slot (with and without a character scope)', async () => {
    const [query] = await embedder.embed([KEYWORD_LORE]);
    // Without the filter, the keyword-only entries are the nearest two.
    const unfiltered = await searchMemories(em(), query!, { characterId: character.id, memoryType: 'character' }, { k: 2 });
    expect(unfiltered.map((hit) => hit.content.startsWith(KEYWORD_LORE))).toEqual([true, true]);
    for (const scope of [{ characterId: character.id, memoryType: 'character' as const }, { memoryType: 'character' as const }]) {
      const hits = await searchMemories(em(), query!, { ...scope, withoutKeywordLore: true }, { k: 2 });
      expect(hits).toHaveLength(2);
      expect(hits.map((hit) => hit.content).sort()).toEqual([FILE_CHUNK, VECTOR_LORE].sort());
    }
    // The HNSW branch applies the same filter.
    const approximate = await searchMemories(
      em(),
      query!,
      { memoryType: 'character', withoutKeywordLore: true },
      { k: 2, exactScanLimit: 0 },
    );
    expect(approximate.map((hit) => hit.content).sort()).toEqual([FILE_CHUNK, VECTOR_LORE].sort());
  });
});
