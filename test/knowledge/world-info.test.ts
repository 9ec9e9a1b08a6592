import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCardJson, exportCardPng } from '../../src/cards/export-card.js';
import { createCharacter } from '../../src/characters/characters.js';
import { cardOf } from '../../src/characters/import-card.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { CharacterKnowledge, type ICharacter } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { chunkDocument } from '../../src/knowledge/chunk.js';
import { extractText } from '../../src/knowledge/extract.js';
import { ingestHandler } from '../../src/knowledge/ingest-job.js';
import { addKnowledge, INGEST_QUEUE } from '../../src/knowledge/knowledge.js';
import { loreFromJson, loreToJson } from '../../src/knowledge/lore-json.js';
import { loadLore } from '../../src/knowledge/lore.js';
import { exportLoreFile, importLoreFile, readLoreFile } from '../../src/knowledge/world-info.js';
import { guardedFetch } from '../../src/llm/endpoint-guard.js';
import { createLogger } from '../../src/logger.js';
import { MemoryJobQueue } from '../../src/queue/memory-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { fullEntry, v2Card, worldInfo } from '../cards/corpus.js';

type Json = Record<string, unknown>;
let db: TestDatabase;
let queue: MemoryJobQueue;
let server: Server;
let base = '';
const files = new Map<string, Buffer>();
let actor: Actor;
const em = () => db.orm.em.fork();
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const character = async (name: string) => (await createCharacter(em(), actor, { name, personalityPrompt: 'Knows places.' })) as ICharacter;

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
      fetch: guardedFetch({ allowPrivate: true }),
      limits: { maxBytes: 1e6, timeoutMs: 2000, maxUnpackedBytes: 1e6 },
      attempts: 1,
      queue,
    }),
  );
  server = createServer((request, response) => {
    const body = files.get(request.url ?? '');
    if (!body) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  actor = await resolveActor(em(), { user: { id: '170000000000000001', username: 'worldbuilder' } });
});
afterAll(async () => {
  await queue.close();
  server?.close();
  await db?.close();
});

describe('world-info files', () => {
  it('reads ST world-info entries (keyed by uid) with every setting', async () => {
    const entries = await readLoreFile(json(worldInfo(3)));
    expect(entries).toHaveLength(3);
    // Field names and numbers as in ST's world-info.js (position 3 = an_bottom, role 1 = user, selectiveLogic 1 = NOT_ALL).
    expect(entries[1]).toMatchObject({
      id: 1,
      keys: ['place1'],
      secondaryKeys: ['also1'],
      name: 'Place 1',
      content: 'Place 1 is far away.',
      enabled: true,
      constant: false,
      selective: true,
      selectiveLogic: 'not_all',
      insertionOrder: 101,
      position: 'after_char',
      role: 'user',
      matchWholeWords: true,
      probability: 100,
      depth: 4,
    });
    expect(entries[1]!.caseSensitive).toBeUndefined(); // null in ST means "use the global setting"
    expect(entries[2]!.enabled).toBe(false);
    await expect(readLoreFile(json({ hello: 1 }))).rejects.toThrow(/not a world-info file/);
  });

  it('reads which card fields an entry scans, from a card entry and from a world-info entry', () => {
    // Card keys as ST's convertCharacterBook reads them (extensions.match_*), world-info keys as its entries hold them.
    const card = loreFromJson({
      keys: ['guild'],
      content: 'x',
      extensions: { match_character_description: true, match_scenario: true, match_persona_description: false },
    });
    expect(card).toMatchObject({ matchCharacterDescription: true, matchScenario: true, matchPersonaDescription: false });
    expect(card.matchCreatorNotes).toBeUndefined();
    const world = loreFromJson({ uid: 0, key: ['guild'], content: 'x', matchCreatorNotes: true, matchCharacterDepthPrompt: true });
    expect(world).toMatchObject({ matchCreatorNotes: true, matchCharacterDepthPrompt: true });
    // Written back where each format keeps it.
    expect(
      (loreToJson({ ...card, matchCharacterPersonality: true }, 'card', 0).extensions as Record<string, unknown>)
        .match_character_personality,
    ).toBe(true);
    expect(loreToJson({ ...world, matchScenario: true }, 'world', 0).matchScenario).toBe(true);
    const filtered = loreFromJson({ uid: 1, key: ['a'], content: 'x', characterFilter: { isExclude: true, names: ['Mira'], tags: [] } });
    expect(filtered.characterFilter).toEqual({ isExclude: true, names: ['Mira'], tags: [] });
    expect(
      loreFromJson({ uid: 2, key: ['a'], content: 'x', characterFilter: { isExclude: false, names: [], tags: [] } }).characterFilter,
    ).toBeUndefined();
  });

  it('imports a world-info file into a lorebook and exports it back with every field', async () => {
    const atlas = await character('Atlas');
    const original = worldInfo(4);
    expect(await importLoreFile(em(), queue, actor, atlas, await readLoreFile(json(original)))).toBe(4);
    expect(await exportLoreFile(em(), atlas)).toStrictEqual(original);
    // And the card export carries the same entries, ST's settings in each entry's extensions.
    const card = exportCardJson(await cardOf(em(), atlas));
    const entries = (card.data as { character_book: { entries: Json[] } }).character_book.entries;
    expect(entries[3]).toMatchObject({
      keys: ['place3'],
      comment: 'Place 3',
      content: 'Place 3 is far away.',
      insertion_order: 103,
      enabled: true,
      position: 'after_char',
      extensions: {
        position: 3,
        role: 0,
        selectiveLogic: 3,
        display_index: 3,
        some_app: { nested: { deep: [3, { x: null, y: [true, 'z'] }], empty: {} } },
      },
    });
    expect(loreFromJson(entries[3]!)).toMatchObject({
      position: 'an_bottom',
      role: 'system',
      selectiveLogic: 'and_all',
      insertionOrder: 103,
    });
  });

  it('takes the lorebook embedded in a card file, and writes card entries as world info ST reads', async () => {
    const png = exportCardPng(v2Card(2));
    const entries = await readLoreFile(png);
    expect(entries).toHaveLength(4);
    const world = loreToJson(entries[1]!, 'world', 1);
    const card = fullEntry(1) as Json & { extensions: Json };
    // As ST's convertCharacterBook maps a card entry to a world-info entry.
    expect(world).toMatchObject({
      uid: 1,
      key: card.keys,
      keysecondary: card.secondary_keys,
      comment: 'Entry 1',
      content: card.content,
      order: 101,
      position: 1,
      disable: false,
      depth: 1,
      role: 1,
      probability: 51,
      displayIndex: 1,
      automationId: 'auto-1',
      triggers: ['normal', 'continue'],
      extensions: card.extensions,
    });
    expect(loreFromJson(world)).toEqual({ ...entries[1], original: world, priority: undefined, useRegex: undefined });
  });

  it('turns a world-info file added as knowledge into lore entries, not text', async () => {
    const mapper = await character('Mapper');
    files.set('/places.json', json(worldInfo(3)));
    const item = await addKnowledge(em(), queue, actor, mapper, {
      url: `${base}/places.json`,
      name: 'places.json',
      sourceName: 'places.json',
      sourceType: 'file',
      size: 10,
    });
    await expect.poll(async () => (await em().findOneOrFail(CharacterKnowledge, item.id)).status, { timeout: 20_000 }).toBe('completed');
    expect((await em().findOneOrFail(CharacterKnowledge, item.id)).processingInfo).toMatchObject({ loreEntries: 3 });
    const lore = await loadLore(em(), mapper.id);
    expect(lore.map((row) => [row.entry.keys, row.entry.enabled])).toEqual([
      [['place0'], true],
      [['place1'], true],
      [['place2'], false],
    ]);
  });
});
