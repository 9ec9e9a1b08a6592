/**
 * The retrieval bench's side measurements on the same data and query vectors:
 * full-text and hybrid recall (what recall runs per kind), and SillyTavern's
 * vector store, vectra (the version SillyTavern's package.json pins, ^0.2.2),
 * which keeps one index per collection (a chat, a knowledge source) as a JSON
 * file and ranks a query by scanning every item in memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import pgvector from 'pgvector';
import { LocalIndex } from 'vectra';
import { fuseRanks, searchText } from '../src/memory/text-search.js';
import { searchMemories, type MemoryScope } from '../src/memory/vector-store.js';

export interface SideSample {
  textMs: number;
  hybridMs: number;
  vectraMs?: number;
  /** vectra's top k against the exact top k. */
  vectraRecall?: number;
}

/** The query text: half of a scope row's words (what a question shares with a memory) and three random ones. */
export async function queryTexts(em: EntityManager, where: { sql: string; params: unknown[] }, count: number): Promise<string[]> {
  const rows = await em.execute<{ content: string }[]>(
    `select content from vector_memories ${where.sql} order by random() limit ${count}`,
    where.params,
  );
  return Array.from({ length: count }, (_, i) => {
    const words = rows[i % rows.length]!.content.split(' ').filter((_, j) => j % 2 === 0);
    for (let j = 0; j < 3; j++) words.push(`w${Math.floor(5000 * Math.random() ** 3)}`);
    return words.join(' ');
  });
}

/** searchText alone, and vector + text in parallel fused by rank, as recall runs them (k candidates each). */
export async function measureHybrid(em: EntityManager, vector: number[], text: string, scope: MemoryScope, k: number) {
  let started = performance.now();
  await searchText(em.fork(), text, scope, { k, embedding: vector });
  const textMs = performance.now() - started;
  started = performance.now();
  const [near, words] = await Promise.all([
    searchMemories(em.fork(), vector, scope, { k }),
    searchText(em.fork(), text, scope, { k, embedding: vector }),
  ]);
  fuseRanks([near, words]);
  return { textMs, hybridMs: performance.now() - started };
}

/** A vectra index of the scope's rows (same vectors), in a temporary folder; close() deletes it. */
export async function vectraIndexOf(em: EntityManager, where: { sql: string; params: unknown[] }) {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'dreamchat-vectra-'));
  const index = new LocalIndex(folder);
  await index.createIndex();
  const started = performance.now();
  const rows = await em.execute<{ id: string; embedding: string }[]>(
    `select id, embedding::text as embedding from vector_memories ${where.sql}`,
    where.params,
  );
  await index.beginUpdate();
  for (const row of rows) await index.insertItem({ id: row.id, vector: pgvector.fromSql(row.embedding) as number[], metadata: {} });
  await index.endUpdate();
  const buildSeconds = (performance.now() - started) / 1000;
  return {
    rows: rows.length,
    buildSeconds,
    async query(vector: number[], k: number): Promise<{ ms: number; ids: string[] }> {
      const begun = performance.now();
      const results = await index.queryItems(vector, k);
      return { ms: performance.now() - begun, ids: results.map((result) => result.item.id) };
    },
    close: () => rm(folder, { recursive: true, force: true }),
  };
}
