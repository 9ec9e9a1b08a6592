import type { EntityManager } from '@mikro-orm/postgresql';
import pgvector from 'pgvector';
import {
  scopeFilter,
  searchMemories,
  SELECT_FIELDS,
  toHit,
  type HitRow,
  type MemoryHit,
  type MemoryScope,
  type QueryListener,
} from './vector-store.js';

/** Scopes of at most this many memories have every piece compared; larger ones go through the pieces' HNSW index. */
const EXACT_SCAN_MEMORIES = 1_000;

export interface PieceSearchOptions {
  k: number;
  /** Scopes of more memories than this are searched through the HNSW index (default EXACT_SCAN_MEMORIES). */
  exactScanLimit?: number;
  onQuery?: QueryListener;
}
/** Pieces fetched per memory wanted from the index: a memory's nearest pieces often come together. */
const PIECES_PER_HIT = 3;
/** hnsw.max_scan_tuples of the pieces' iterative scan. */
const HNSW_MAX_SCAN_TUPLES = 20_000;

/**
 * The k memories of a scope nearest to `embedding` by the nearer of their own vector and their nearest piece
 * (src/memory/pieces.ts), nearest first; `distance` is that nearer one. Memories without pieces (made before them,
 * or of one sentence) go by their own vector. The scope filters the memories exactly as searchMemories does:
 * pieces only rank them.
 *
 * The two lists (k by own vector, k by nearest piece) hold the k nearest by either: a memory among them is in the
 * list of the vector that makes it near.
 */
export async function searchExchanges(
  em: EntityManager,
  embedding: number[],
  scope: MemoryScope,
  options: PieceSearchOptions,
): Promise<MemoryHit[]> {
  const [own, pieces] = await Promise.all([
    searchMemories(em.fork(), embedding, scope, { k: options.k, exactScanLimit: options.exactScanLimit, onQuery: options.onQuery }),
    searchPieces(em.fork(), embedding, scope, options),
  ]);
  const nearest = new Map<string, MemoryHit>();
  for (const hit of [...own, ...pieces]) {
    const known = nearest.get(hit.id);
    if (!known || hit.distance < known.distance) nearest.set(hit.id, hit);
  }
  return [...nearest.values()]
    .sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : 1))
    .slice(0, Math.max(1, Math.trunc(options.k)));
}

/**
 * The k memories of a scope whose nearest piece is nearest, with that piece's distance. A scope of at most
 * exactScanLimit memories (counted through its index) has all their pieces compared; a larger one is walked
 * through the pieces' HNSW index with an iterative scan, each piece's memory checked against the scope.
 */
export async function searchPieces(
  em: EntityManager,
  embedding: number[],
  scope: MemoryScope,
  options: PieceSearchOptions,
): Promise<MemoryHit[]> {
  const k = Math.max(1, Math.trunc(options.k));
  const limit = Math.max(0, Math.trunc(options.exactScanLimit ?? EXACT_SCAN_MEMORIES));
  const vector = pgvector.toSql(embedding);
  const { where, params } = scopeFilter(scope);
  const gate = (fits: boolean) => `(select scope_rows ${fits ? '<=' : '>'} ${limit} from counted)`;
  const sql = `with counted as materialized (
       select count(*) as scope_rows from (select 1 from vector_memories ${where} limit ${limit + 1}) scope
     ),
     exact as materialized (
       select p.memory_id, min(p.embedding <=> ?) as distance
         from memory_pieces p
        where ${gate(true)} and p.embedding is not null and p.memory_id = any(array(
                select id from vector_memories ${where} limit ${limit + 1}))
        group by p.memory_id
        order by distance, p.memory_id
        limit ${k}
     ),
     approximate as materialized (
       select memory_id, distance from (
         select p.memory_id, p.embedding <=> ? as distance
           from memory_pieces p
          where ${gate(false)} and (select set_config('hnsw.ef_search', '${Math.max(100, k * PIECES_PER_HIT)}', true)
                                 || set_config('hnsw.iterative_scan', 'relaxed_order', true)
                                 || set_config('hnsw.max_scan_tuples', '${HNSW_MAX_SCAN_TUPLES}', true)) is not null
          order by p.embedding <=> ?
          limit ${HNSW_MAX_SCAN_TUPLES}
       ) nearest
        where exists (select 1 from vector_memories m where m.id = nearest.memory_id ${where ? `and ${where.slice('where '.length)}` : ''})
        limit ${k * PIECES_PER_HIT}
     ),
     best as (
       select memory_id, min(distance) as distance from (select * from exact union all select * from approximate) hits group by memory_id
     )
     select ${SELECT_FIELDS.split(', ')
       .map((field) => `m.${field}`)
       .join(', ')}, best.distance
       from best join vector_memories m on m.id = best.memory_id
      order by best.distance, m.id
      limit ${k}`;
  const all = [...params, vector, ...params, vector, vector, ...params];
  options.onQuery?.({ sql, params: all });
  const rows = await em.execute<HitRow[]>(sql, all);
  return rows.map(toHit);
}
