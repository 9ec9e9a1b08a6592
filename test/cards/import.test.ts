import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCardPng } from '../../src/cards/export-card.js';
import { parseCard } from '../../src/cards/parse-card.js';
import { cardOf, importCard } from '../../src/characters/import-card.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Character, CharacterKnowledge, VectorMemory } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { chunkDocument } from '../../src/knowledge/chunk.js';
import { extractText } from '../../src/knowledge/extract.js';
import { ingestHandler } from '../../src/knowledge/ingest-job.js';
import { INGEST_QUEUE } from '../../src/knowledge/knowledge.js';
import { guardedFetch } from '../../src/llm/endpoint-guard.js';
import { createLogger } from '../../src/logger.js';
import { MemoryJobQueue } from '../../src/queue/memory-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let queue: MemoryJobQueue;
let actor: Actor;
const em = () => db.orm.em.fork();

const card = {
  spec: 'chara_card_v2',
  data: {
    name: 'Lyra',
    description: 'A star-gazing scholar.',
    personality: 'Curious.',
    first_mes: 'The stars are bright tonight.',
    mes_example: '',
    scenario: 'An observatory.',
    tags: ['stars'],
    extensions: { talkativeness: '0.3' },
    character_book: { entries: [{ keys: ['comet'], content: 'The comet Vessa returns every 76 years.', enabled: true, insertion_order: 0 }] },
  },
};

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 64 });
  queue = new MemoryJobQueue({ logger: createLogger('silent') });
  queue.process(
    INGEST_QUEUE,
    ingestHandler({
      orm: db.orm,
      embedder: new HashingEmbedder(64),
      extract: extractText,
      chunk: (extracted) => chunkDocument(extracted),
      fetch: guardedFetch({ allowPrivate: false }),
      limits: { maxBytes: 1e6, timeoutMs: 1000, maxUnpackedBytes: 1e6 },
      attempts: 1,
    }),
  );
  actor = await resolveActor(em(), { user: { id: '160000000000000001', username: 'importer' } });
});
afterAll(async () => {
  await queue.close();
  await db?.close();
});

describe('card import', () => {
  it('creates the character and learns its lorebook entries', async () => {
    const { character, loreEntries } = await importCard(em(), queue, actor, parseCard(Buffer.from(JSON.stringify(card))), {});
    expect(loreEntries).toBe(1);
    expect(character).toMatchObject({ name: 'Lyra', greeting: 'The stars are bright tonight.', scenario: 'An observatory.', tags: ['stars'] });
    expect(character.personalityPrompt).toBe('A star-gazing scholar.\n\nPersonality: Curious.');
    expect(character.config.talkativeness).toBe(0.3);
    await expect.poll(async () => (await em().findOneOrFail(CharacterKnowledge, { character: character.id })).status).toBe('completed');
    const [chunk] = await em().find(VectorMemory, { character: character.id });
    expect(chunk!.content).toBe('The comet Vessa returns every 76 years.');
    const lore = await em().findOneOrFail(CharacterKnowledge, { character: character.id });
    expect((lore.metadata as { lore: { keys: string[] } }).lore.keys).toEqual(['comet']);
  });

  it('exports what it imported, lorebook included, and refuses a duplicate name without storing anything', async () => {
    const lyra = await em().findOneOrFail(Character, { name: 'Lyra' }, { populate: ['user'] });
    const again = parseCard(exportCardPng(await cardOf(em(), lyra as never)));
    expect(again).toMatchObject({ name: 'Lyra', greeting: 'The stars are bright tonight.', talkativeness: 0.3 });
    expect(again.lorebook.map((entry) => [entry.keys, entry.content])).toEqual([[['comet'], 'The comet Vessa returns every 76 years.']]);
    const before = await em().count(CharacterKnowledge, {});
    await expect(importCard(em(), queue, actor, again, {})).rejects.toThrow(/already have a character called “Lyra”/);
    expect(await em().count(CharacterKnowledge, {})).toBe(before);
  });
});
