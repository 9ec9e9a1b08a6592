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

/** Scopes of at most this many memories are ranked exactly; larger ones go through the HNSW indexes. */
const EXACT_SCAN_MEMORIES = 1_000;

export interface PieceSearchOptions {
  k: number;
  /** Scopes of more memories than this are searched through the HNSW indexes (default EXACT_SCAN_MEMORIES). */
  exactScanLimit?: number;
  onQuery?: QueryListener;
}

/** Pieces fetched per memory wanted from the index: a memory's nearest pieces often come together. */
const PIECES_PER_HIT = 3;
/**
 * hnsw.max_scan_tuples of the pieces' iterative scan: it bounds the walk for scopes that are a small share of all
 * pieces (the merge with the own-vector list still gives k). bench/retrieval at 100k memories, scopes of 1,000 to
 * 9,999: p95 66-148 ms with 20,000, 31-33 ms with 4,000, recall@10 0.94-0.97 and 0.97-0.99.
 */
const HNSW_MAX_SCAN_TUPLES = 4_000;

/**
 * The k memories of a scope nearest to `embedding` by the nearer of their own vector and their nearest piece
 * (src/memory/pieces.ts), nearest first; `distance` is that nearer one. Memories without pieces (made before them,
 * or of one sentence) go by their own vector. The scope filters the memories exactly as searchMemories does:
 * pieces only rank them.
 *
 * One statement counts the scope through its index: a scope of at most exactScanLimit memories is ranked exactly
 * there and then. A larger one gets the k nearest by piece through the pieces' HNSW index, and searchMemories the k
 * nearest by own vector; together they hold the k nearest by either, since a memory among those is in the list of
 * the vector that makes it near.
 */
export async function searchExchanges(
  em: EntityManager,
  embedding: number[],
  scope: MemoryScope,
  options: PieceSearchOptions,
): Promise<MemoryHit[]> {
  const k = Math.max(1, Math.trunc(options.k));
  const limit = Math.max(0, Math.trunc(options.exactScanLimit ?? EXACT_SCAN_MEMORIES));
  const { hits, exact } = await nearestBySentences(em.fork(), embedding, scope, { k, limit, onQuery: options.onQuery });
  if (exact) return hits;
  const own = await searchMemories(em.fork(), embedding, scope, { k, exactScanLimit: limit, onQuery: options.onQuery });
  const nearest = new Map<string, MemoryHit>();
  for (const hit of [...own, ...hits]) {
    const known = nearest.get(hit.id);
    if (!known || hit.distance < known.distance) nearest.set(hit.id, hit);
  }
  return [...nearest.values()].sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : 1)).slice(0, k);
}

/**
 * A scope of at most `limit` memories (counted through its index): its k nearest by the nearer of own vector and
 * nearest piece, exactly (`exact`). A larger one: the k nearest by piece alone, walked through the pieces' HNSW index
 * with an iterative scan, each piece's memory checked against the scope.
 */
async function nearestBySentences(
  em: EntityManager,
  embedding: number[],
  scope: MemoryScope,
  options: { k: number; limit: number; onQuery?: QueryListener },
): Promise<{ hits: MemoryHit[]; exact: boolean }> {
  const { k, limit } = options;
  const vector = pgvector.toSql(embedding);
  const { where, params } = scopeFilter(scope);
  const and = (clause: string) => (where ? `${where} and ${clause}` : `where ${clause}`);
  const gate = (fits: boolean) => `(select scope_rows ${fits ? '<=' : '>'} ${limit} from counted)`;
  const sql = `with counted as materialized (
       select count(*) as scope_rows from (select 1 from vector_memories ${where} limit ${limit + 1}) scope
     ),
     exact as materialized (
       select scoped.id as memory_id, least(scoped.distance, sentences.distance) as distance
         from (select id, embedding <=> ? as distance from vector_memories ${and(gate(true))} limit ${limit + 1}) scoped
         left join (
           select p.memory_id, min(p.embedding <=> ?) as distance
             from memory_pieces p
            where ${gate(true)} and p.memory_id = any(array(select id from vector_memories ${where} limit ${limit + 1}))
            group by p.memory_id
         ) sentences on sentences.memory_id = scoped.id
        order by distance nulls last, scoped.id
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
        where ${gate(false)} and exists (select 1 from vector_memories m ${and('m.id = nearest.memory_id')})
        limit ${k * PIECES_PER_HIT}
     ),
     best as (
       select memory_id, min(distance) as distance from (select * from exact union all select * from approximate) hits
        where distance is not null group by memory_id
     )
     select counted.scope_rows, hits.* from counted left join (
       select ${SELECT_FIELDS.split(', ')
         .map((field) => `m.${field}`)
         .join(', ')}, best.distance
         from best join vector_memories m on m.id = best.memory_id
        order by best.distance, m.id
        limit ${k}) hits on true
      order by hits.distance nulls last, hits.id`;
  const all = [...params, vector, ...params, vector, ...params, vector, vector, ...params];
  options.onQuery?.({ sql, params: all });
  const rows = await em.execute<(Partial<HitRow> & { scope_rows: string | number })[]>(sql, all);
  const hits = rows.filter((row): row is HitRow & { scope_rows: string } => row.id != null).map(toHit);
  return { hits, exact: !rows[0] || Number(rows[0].scope_rows) <= limit };
}
