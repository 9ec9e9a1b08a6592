import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardAs, exportCardJson, exportCardPng } from '../../src/cards/export-card.js';
import { parseCard } from '../../src/cards/parse-card.js';
import { cardOf, importCard } from '../../src/characters/import-card.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Character, CharacterKnowledge, VectorMemory, type ICharacter } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { chunkDocument } from '../../src/knowledge/chunk.js';
import { extractText } from '../../src/knowledge/extract.js';
import { ingestHandler } from '../../src/knowledge/ingest-job.js';
import { INGEST_QUEUE } from '../../src/knowledge/knowledge.js';
import { editLore, loadLore } from '../../src/knowledge/lore.js';
import { guardedFetch } from '../../src/llm/endpoint-guard.js';
import { createLogger } from '../../src/logger.js';
import { MemoryJobQueue } from '../../src/queue/memory-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { fullEntry, v2Card } from './corpus.js';

let db: TestDatabase;
let queue: MemoryJobQueue;
/** A queue nobody works: for the big lorebook, whose embedding is not what is tested. */
let idle: MemoryJobQueue;
let actor: Actor;
const em = () => db.orm.em.fork();
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const load = async (name: string) => (await em().findOneOrFail(Character, { name }, { populate: ['user'] })) as ICharacter;

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 64 });
  queue = new MemoryJobQueue({ logger: createLogger('silent') });
  idle = new MemoryJobQueue({ logger: createLogger('silent') });
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
  await idle.close();
  await db?.close();
});

describe('card import and export through the database', () => {
  it('stores the card as it came, keeps personality apart, and keeps disabled and empty entries unembedded', async () => {
    const { character, loreEntries, notes } = await importCard(em(), queue, actor, await parseCard(json(v2Card())), {});
    expect(loreEntries).toBe(8);
    expect(notes).toEqual([]);
    expect(character).toMatchObject({
      name: 'Seraphina',
      personalityPrompt: 'A guardian of the forest.',
      personality: 'Kind, protective.',
      greeting: 'You are safe now, {{user}}.',
      alternateGreetings: ['Welcome back.', 'Oh, you again!'],
    });
    expect(character.config.talkativeness).toBe(0.8);
    const items = await em().find(CharacterKnowledge, { character: character.id }, { orderBy: { createdAt: 'asc' } });
    expect(items).toHaveLength(8);
    await expect
      .poll(async () => (await em().find(CharacterKnowledge, { character: character.id, status: 'completed' })).length, { timeout: 20_000 })
      .toBe(8);
    // Entry 3 is disabled, entry 6 empty, entry 7 disabled: nothing of them reaches recall.
    const skipped = (await em().find(CharacterKnowledge, { character: character.id }, { orderBy: { createdAt: 'asc' } })).map(
      (item) => (item.processingInfo as { skipped?: string } | null)?.skipped ?? null,
    );
    expect(skipped).toEqual([null, null, null, 'disabled', null, null, 'empty', 'disabled']);
    const recalled = await em().find(VectorMemory, { character: character.id });
    expect(recalled.map((memory) => memory.content).sort()).toEqual(
      [0, 1, 2, 4, 5].map((i) => `What the character knows about thing ${i}.`).sort(),
    );
  });

  it('exports exactly the card it imported (every key, every entry), and again after a round trip', async () => {
    const seraphina = await load('Seraphina');
    const exported = exportCardJson(await cardOf(em(), seraphina));
    expect(cardAs(exported, 'v2')).toStrictEqual(v2Card());
    const png = exportCardPng(exported);
    await em().nativeDelete(Character, { id: seraphina.id });
    await importCard(em(), queue, actor, await parseCard(png), {});
    const again = exportCardJson(await cardOf(em(), await load('Seraphina')));
    // The PNG's ccv3 chunk is read first (as ST does); V3 requires group_only_greetings, so the card now has it.
    const original = v2Card() as { data: object };
    expect(cardAs(again, 'v2')).toStrictEqual({ ...original, data: { ...original.data, group_only_greetings: [] } });
  });

  it('exports what was changed in DreamChat over the original, the rest untouched', async () => {
    const seraphina = await load('Seraphina');
    const lore = await loadLore(em(), seraphina.id);
    await editLore(em(), queue, actor, seraphina, lore[1]!.id, { priority: 42, enabled: false });
    await em().nativeUpdate(Character, { id: seraphina.id }, { personality: 'Fierce.' });
    const card = exportCardJson(await cardOf(em(), await load('Seraphina')));
    const data = card.data as { personality: string; creator: string; character_book: { entries: Record<string, unknown>[] } };
    expect(data).toMatchObject({ personality: 'Fierce.', creator: 'tester' });
    expect(card.personality).toBe('Fierce.');
    expect(data.character_book.entries[1]).toStrictEqual({ ...fullEntry(1), priority: 42, enabled: false });
    expect(data.character_book.entries[0]).toStrictEqual(fullEntry(0));
  });

  it('keeps a 500-entry lorebook through the database, every field', async () => {
    const original = { ...v2Card(500), data: { ...(v2Card(500).data as object), name: 'Archivist' } };
    const { loreEntries } = await importCard(em(), idle, actor, await parseCard(json(original)), {});
    expect(loreEntries).toBe(502);
    const exported = exportCardJson(await cardOf(em(), await load('Archivist')));
    expect(cardAs(exported, 'v2')).toStrictEqual(original);
  });

  it('refuses a duplicate name without storing anything', async () => {
    const before = await em().count(CharacterKnowledge, {});
    await expect(importCard(em(), queue, actor, await parseCard(json(v2Card())), {})).rejects.toThrow(
      /already have a character called “Seraphina”/,
    );
    expect(await em().count(CharacterKnowledge, {})).toBe(before);
  });
});
