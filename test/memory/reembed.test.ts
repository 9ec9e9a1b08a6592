import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Character, User } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { reembedAll } from '../../src/memory/reembed.js';
import { insertMemories, searchMemories } from '../../src/memory/vector-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let characterId: string;
const FACTS = [
  'The lighthouse keeper paints the tower red every spring.',
  'Marigold the cat sleeps on the warm engine of the ferry.',
  'The harbour bell was cast from melted cannons in 1802.',
  'Fishermen trade smoked eel for salt at the Thursday market.',
];

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 64 });
  const em = db.orm.em.fork();
  const user = em.create(User, { discordId: '210000000000000001' });
  const character = em.create(Character, { user, name: 'Harbourmaster', personalityPrompt: '...' });
  await em.flush();
  characterId = character.id;
  const old = new HashingEmbedder(64);
  const vectors = await old.embed(FACTS);
  await insertMemories(
    em,
    FACTS.map((content, i) => ({
      content,
      embedding: vectors[i]!,
      memoryType: 'character' as const,
      characterId,
      metadata: { embedder: old.id, chunkIndex: i },
    })),
  );
});
afterAll(async () => {
  await db?.close();
});

async function dimensionAndIndex() {
  const [row] = await db.orm.em.fork().execute<{ dimension: number; indexed: boolean }[]>(
    `select (select atttypmod from pg_attribute where attrelid = 'vector_memories'::regclass and attname = 'embedding') as dimension,
            exists (select 1 from pg_indexes where indexname = 'idx_vector_memories_embedding' and indexdef ilike '%hnsw%') as indexed`,
  );
  return row;
}

describe('npm run reembed', () => {
  it('moves every memory to a new embedder of another dimension, keeping its text and metadata, and rebuilds the index', async () => {
    const next = new HashingEmbedder(32);
    const seen: number[] = [];
    const result = await reembedAll(db.orm.em.fork(), next, { batchSize: 3, onProgress: ({ done }) => seen.push(done) });
    expect(result).toEqual({ reembedded: 4, resizedFrom: 64 });
    expect(seen).toEqual([3, 4]);
    expect(await dimensionAndIndex()).toEqual({ dimension: 32, indexed: true });

    const [query] = await next.embed(['Where does the cat sleep?']);
    const hits = await searchMemories(db.orm.em.fork(), query!, { characterId }, { k: 1 });
    expect(hits[0]!.content).toBe(FACTS[1]);
    expect(hits[0]!.metadata).toMatchObject({ embedder: next.id, chunkIndex: 1 });
  });

  it('does nothing the second time, so an interrupted run can simply be started again', async () => {
    const next = new HashingEmbedder(32);
    await db.orm.em.fork().execute(`update vector_memories set embedding = null where content like 'Fishermen%'`, [], 'run');
    expect(await reembedAll(db.orm.em.fork(), next)).toEqual({ reembedded: 1 });
    const indexOid = async () =>
      (await db.orm.em.fork().execute<{ oid: number }[]>(`select 'idx_vector_memories_embedding'::regclass::oid::int as oid`))[0]!.oid;
    const before = await indexOid();
    expect(await reembedAll(db.orm.em.fork(), next)).toEqual({ reembedded: 0 });
    // With nothing to re-embed, the index is left as it was, not rebuilt.
    expect(await indexOid()).toBe(before);
    expect(await dimensionAndIndex()).toEqual({ dimension: 32, indexed: true });
  });
});
