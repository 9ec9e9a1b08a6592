import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Character, Conversation, User } from '../../src/db/entities/index.js';
import {
  approximateSearch,
  deleteKnowledgeMemories,
  insertMemories,
  searchMemories,
  type MemoryInput,
} from '../../src/memory/vector-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DIMENSION = 16;
const CHARACTERS = 200;
const CONVERSATIONS = 20;
const ROWS = 4000;

let db: TestDatabase;
let characterIds: string[] = [];
let conversationIds: string[] = [];
const rows: (MemoryInput & { id: string })[] = [];

/** mulberry32: a small seeded generator, so failures reproduce. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(42);
const vector = () => Array.from({ length: DIMENSION }, () => next() * 2 - 1);

function cosineDistance(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((value, i) => {
    dot += value * b[i]!;
    na += value * value;
    nb += b[i]! * b[i]!;
  });
  return 1 - dot / Math.sqrt(na * nb);
}

function bruteForce(query: number[], keep: (row: (typeof rows)[number]) => boolean, k: number) {
  return rows
    .filter(keep)
    .map((row) => ({ id: row.id, distance: cosineDistance(query, row.embedding) }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, k);
}

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  const em = db.orm.em.fork();
  const user = em.create(User, { discordId: '200000000000000001' });
  const characters = Array.from({ length: CHARACTERS }, (_, i) =>
    em.create(Character, { user, name: `Character ${i}`, personalityPrompt: '...' }),
  );
  const conversations = Array.from({ length: CONVERSATIONS }, (_, i) =>
    em.create(Conversation, { discordChannelId: String(300000000000000000n + BigInt(i)) }),
  );
  await em.flush();
  characterIds = characters.map((c) => c.id);
  conversationIds = conversations.map((c) => c.id);

  const inputs: MemoryInput[] = Array.from({ length: ROWS }, (_, i) => ({
    content: `memory ${i}`,
    embedding: vector(),
    memoryType: i % 2 ? 'character' : 'conversation',
    characterId: characterIds[i % CHARACTERS],
    conversationId: i % 2 ? undefined : conversationIds[i % CONVERSATIONS],
    metadata: { i },
  }));
  const ids = await insertMemories(em, inputs);
  inputs.forEach((input, i) => rows.push({ ...input, id: ids[i]! }));
});
afterAll(() => db?.close());

describe('vector store', () => {
  it('inserts in batches and returns ids in input order', async () => {
    expect(rows).toHaveLength(ROWS);
    const [first] = await db.orm.em
      .fork()
      .execute<{ content: string }[]>('select content from vector_memories where id = ?', [rows[1234]!.id]);
    expect(first?.content).toBe('memory 1234');
  });

  it('returns a character’s k nearest in the brute-force order, with distance and similarity', async () => {
    const query = vector();
    const characterId = characterIds[7]!;
    const hits = await searchMemories(db.orm.em.fork(), query, { characterId }, { k: 10 });
    const expected = bruteForce(query, (row) => row.characterId === characterId, 10);
    expect(hits.map((hit) => hit.id)).toEqual(expected.map((row) => row.id));
    hits.forEach((hit, i) => {
      expect(hit.distance).toBeCloseTo(expected[i]!.distance, 4);
      expect(hit.similarity).toBeCloseTo(1 - expected[i]!.distance, 4);
      expect(hit.characterId).toBe(characterId);
    });
  });

  it('returns k rows under a selective filter (0.5% of rows) even on the HNSW path', async () => {
    for (const characterId of characterIds.slice(0, 10)) {
      const query = vector();
      const hits = await searchMemories(db.orm.em.fork(), query, { characterId }, { k: 10, exactScanLimit: 0 });
      expect(hits).toHaveLength(10);
      expect(hits.every((hit) => hit.characterId === characterId)).toBe(true);
      const distances = hits.map((hit) => hit.distance);
      expect(distances).toEqual([...distances].sort((a, b) => a - b));
      const truth = new Set(bruteForce(query, (row) => row.characterId === characterId, 10).map((row) => row.id));
      expect(hits.filter((hit) => truth.has(hit.id)).length).toBeGreaterThanOrEqual(8);
    }
  });

  it('gets k rows from the HNSW iterative scan alone under the selective filter', async () => {
    const characterId = characterIds[11]!;
    const hits = await approximateSearch(db.orm.em.fork(), vector(), { characterId }, { k: 10, efSearch: 40 });
    expect(hits).toHaveLength(10);
    expect(hits.every((hit) => hit.characterId === characterId)).toBe(true);
  });

  it('leaves out memories made before `createdAfter` (what a late-joining character could not know), on both paths', async () => {
    const conversationId = conversationIds[0]!;
    const em = db.orm.em.fork();
    const old = await em.execute<{ id: string }[]>(
      `update vector_memories set created_at = now() - interval '1 day'
        where conversation_id = ? and ((metadata->>'i')::int / ${CONVERSATIONS}) % 2 = 0 returning id`,
      [conversationId],
    );
    const oldIds = new Set(old.map((row) => row.id));
    // Half of the conversation's memories are a day old.
    expect(oldIds.size).toBe(ROWS / CONVERSATIONS / 2);
    const since = new Date(Date.now() - 60 * 60 * 1000);
    const query = vector();
    const expected = bruteForce(query, (row) => row.conversationId === conversationId && !oldIds.has(row.id), 10);
    for (const exactScanLimit of [10_000, 0]) {
      const hits = await searchMemories(db.orm.em.fork(), query, { conversationId, createdAfter: since }, { k: 10, exactScanLimit });
      expect(hits).toHaveLength(10);
      expect(hits.some((hit) => oldIds.has(hit.id))).toBe(false);
      if (exactScanLimit) expect(hits.map((hit) => hit.id)).toEqual(expected.map((row) => row.id));
    }
  });

  it('returns every row when fewer than k exist in scope', async () => {
    const characterId = characterIds[3]!;
    const inScope = rows.filter((row) => row.characterId === characterId).length;
    const hits = await searchMemories(db.orm.em.fork(), vector(), { characterId }, { k: 50, exactScanLimit: 0 });
    expect(hits).toHaveLength(inScope);
  });

  it('combines conversation, character and type filters', async () => {
    const query = vector();
    const conversationId = conversationIds[4]!;
    const byConversation = await searchMemories(db.orm.em.fork(), query, { conversationId }, { k: 5 });
    expect(byConversation.map((hit) => hit.id)).toEqual(
      bruteForce(query, (row) => row.conversationId === conversationId, 5).map((row) => row.id),
    );
    const characterId = byConversation[0]!.characterId!;
    const both = await searchMemories(db.orm.em.fork(), query, { conversationId, characterId }, { k: 5 });
    expect(both.length).toBeGreaterThan(0);
    expect(both.every((hit) => hit.conversationId === conversationId && hit.characterId === characterId)).toBe(true);
    const knowledgeOnly = await searchMemories(db.orm.em.fork(), query, { characterId, memoryType: 'character' }, { k: 5 });
    expect(knowledgeOnly.every((hit) => hit.memoryType === 'character' && hit.conversationId === null)).toBe(true);
  });

  it('finds the unscoped nearest neighbours through the HNSW index, sorted, with high recall', async () => {
    let found = 0;
    for (let i = 0; i < 10; i++) {
      const query = vector();
      const hits = await searchMemories(db.orm.em.fork(), query, {}, { k: 10 });
      expect(hits).toHaveLength(10);
      const distances = hits.map((hit) => hit.distance);
      expect(distances).toEqual([...distances].sort((a, b) => a - b));
      const truth = new Set(bruteForce(query, () => true, 10).map((row) => row.id));
      found += hits.filter((hit) => truth.has(hit.id)).length;
    }
    expect(found / 100).toBeGreaterThanOrEqual(0.9);
  });

  it('deletes one knowledge item’s chunks and nothing else', async () => {
    const em = db.orm.em.fork();
    const [knowledge] = await em.execute<{ id: string }[]>(
      `insert into character_knowledge (character_id, name, source_type, source_name)
       values (?, 'doc', 'file', 'doc.txt') returning id`,
      [characterIds[0]],
    );
    const knowledgeId = knowledge!.id;
    const query = vector();
    await insertMemories(em, [
      { content: 'a', embedding: query, memoryType: 'character', characterId: characterIds[0], knowledgeId },
      { content: 'b', embedding: vector(), memoryType: 'character', characterId: characterIds[0], knowledgeId },
    ]);
    const before = await searchMemories(em, query, { characterId: characterIds[0] }, { k: 1 });
    expect(before[0]).toMatchObject({ content: 'a', knowledgeId });
    expect(before[0]!.distance).toBeCloseTo(0, 5);
    expect(await deleteKnowledgeMemories(em, knowledgeId)).toBe(2);
    const after = await searchMemories(em, query, { characterId: characterIds[0] }, { k: 30 });
    expect(after.some((hit) => hit.knowledgeId === knowledgeId)).toBe(false);
    expect(after).toHaveLength(rows.filter((row) => row.characterId === characterIds[0]).length);
  });
});

describe('vector store: a tiny and a huge scope side by side', () => {
  const HUGE = 2500;
  let tiny: { characterId: string; conversationId: string };
  let huge: { characterId: string; conversationId: string; userId: string };

  beforeAll(async () => {
    const em = db.orm.em.fork();
    const user = em.create(User, { discordId: '200000000000000002' });
    const [tinyCharacter, hugeCharacter] = [0, 1].map((i) => em.create(Character, { user, name: `Scope ${i}`, personalityPrompt: '...' }));
    const [tinyConversation, hugeConversation] = [0, 1].map((i) =>
      em.create(Conversation, { discordChannelId: String(310000000000000000n + BigInt(i)) }),
    );
    await em.flush();
    tiny = { characterId: tinyCharacter!.id, conversationId: tinyConversation!.id };
    huge = { characterId: hugeCharacter!.id, conversationId: hugeConversation!.id, userId: user.id };
    const inputs: MemoryInput[] = [
      ...Array.from({ length: 3 }, () => ({ characterId: tiny.characterId, memoryType: 'character' as const })),
      ...Array.from({ length: 4 }, () => ({
        conversationId: tiny.conversationId,
        characterId: tiny.characterId,
        memoryType: 'conversation' as const,
      })),
      ...Array.from({ length: HUGE }, () => ({ characterId: huge.characterId, memoryType: 'character' as const })),
      ...Array.from({ length: HUGE }, () => ({
        conversationId: huge.conversationId,
        characterId: huge.characterId,
        userId: huge.userId,
        memoryType: 'conversation' as const,
      })),
    ].map((owner, i) => ({ ...owner, content: `scoped ${i}`, embedding: vector() }));
    const ids = await insertMemories(em, inputs);
    inputs.forEach((input, i) => rows.push({ ...input, id: ids[i]! }));
    await em.execute('analyze vector_memories', [], 'run');
  });

  const cases = () => [
    { name: 'a tiny character’s knowledge', scope: { characterId: tiny.characterId, memoryType: 'character' as const } },
    { name: 'a tiny conversation', scope: { conversationId: tiny.conversationId, memoryType: 'conversation' as const } },
    { name: 'a huge character’s knowledge', scope: { characterId: huge.characterId, memoryType: 'character' as const } },
    { name: 'a huge conversation', scope: { conversationId: huge.conversationId, memoryType: 'conversation' as const } },
    {
      name: 'one person’s memories with the huge character',
      scope: { characterId: huge.characterId, userId: huge.userId, memoryType: 'conversation' as const },
    },
  ];

  it('returns min(k, scope rows) rows that match the brute-force order (exact) or nearly (HNSW, 40% of the table)', async () => {
    for (const { name, scope } of cases()) {
      const keep = (row: (typeof rows)[number]) =>
        row.memoryType === scope.memoryType &&
        (!('characterId' in scope) || row.characterId === scope.characterId) &&
        (!('conversationId' in scope) || row.conversationId === scope.conversationId) &&
        (!('userId' in scope) || row.userId === scope.userId);
      const inScope = rows.filter(keep).length;
      let found = 0;
      for (let i = 0; i < 5; i++) {
        const query = vector();
        const hits = await searchMemories(db.orm.em.fork(), query, scope, { k: 10 });
        const expected = bruteForce(query, keep, 10).map((row) => row.id);
        expect(hits, name).toHaveLength(Math.min(10, inScope));
        if (inScope <= 10)
          expect(
            hits.map((hit) => hit.id),
            name,
          ).toEqual(expected);
        found += hits.filter((hit) => expected.includes(hit.id)).length;
      }
      expect(found / (5 * Math.min(10, inScope)), name).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('ranks a scope at or under exactScanLimit exactly, and a larger one through HNSW in the same single statement', async () => {
    const scope = { characterId: huge.characterId, memoryType: 'character' as const };
    const keep = (row: (typeof rows)[number]) => row.characterId === huge.characterId && row.memoryType === 'character';
    const query = vector();
    const statements: string[] = [];
    const exact = await searchMemories(db.orm.em.fork(), query, scope, {
      k: 10,
      exactScanLimit: HUGE,
      onQuery: (q) => statements.push(q.sql),
    });
    expect(exact.map((hit) => hit.id)).toEqual(bruteForce(query, keep, 10).map((row) => row.id));
    const approximate = await searchMemories(db.orm.em.fork(), query, scope, {
      k: 10,
      exactScanLimit: HUGE - 1,
      onQuery: (q) => statements.push(q.sql),
    });
    expect(approximate).toHaveLength(10);
    expect(approximate.every((hit) => hit.characterId === huge.characterId && hit.memoryType === 'character')).toBe(true);
    expect(statements).toHaveLength(2);
  });
});
