import type { EntityManager } from '@mikro-orm/postgresql';
import pgvector from 'pgvector';
import { scopeFilter, SELECT_FIELDS, toHit, type HitRow, type MemoryHit, type MemoryScope, type QueryListener } from './vector-store.js';

/** A full-text match: a memory hit with its text rank (ts_rank_cd, higher is better). */
export interface TextHit extends MemoryHit {
  rank: number;
}

/** Words of a query looked for at most (the latest ones are kept). */
const MAX_QUERY_WORDS = 32;

/**
 * The k memories of a scope whose words best match `text` (PostgreSQL full
 * text search over the `search` column and its GIN index, English stemming and
 * stop words), best first. Any one of the query's words is enough to match, so
 * a name said once is found; rows with more and rarer matches rank higher.
 * With `embedding`, each hit also carries its cosine distance to it.
 */
export async function searchText(
  em: EntityManager,
  text: string,
  scope: MemoryScope,
  options: { k: number; embedding?: number[]; onQuery?: QueryListener },
): Promise<TextHit[]> {
  const query = orQuery(text);
  if (!query) return [];
  const k = Math.max(1, Math.trunc(options.k));
  const { where, params } = scopeFilter(scope);
  const distance = options.embedding ? 'embedding <=> ?' : 'null::float8';
  // The query is parsed once (a one-row CTE); the scope's clauses and the match use their indexes as the planner sees fit.
  const sql = `with q as materialized (select websearch_to_tsquery('english', ?) as query)
     select ${SELECT_FIELDS}, ${distance} as distance, ts_rank_cd(search, (select query from q), 1) as rank
       from vector_memories
      ${where ? `${where} and` : 'where'} search @@ (select query from q)
      order by rank desc, id
      limit ${k}`;
  const all = [query, ...(options.embedding ? [pgvector.toSql(options.embedding)] : []), ...params];
  options.onQuery?.({ sql, params: all });
  const rows = await em.execute<(HitRow & { rank: number | string })[]>(sql, all);
  return rows.map((row) => ({ ...toHit(row), rank: Number(row.rank) }));
}

/** The text's distinct words joined by "or" (websearch_to_tsquery's OR), which never fails to parse. */
export function orQuery(text: string): string {
  const words = [...new Set((text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((word) => word !== 'or'))];
  return words.slice(-MAX_QUERY_WORDS).join(' or ');
}

/**
 * Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009): each list adds
 * 1 / (c + rank) for every item it holds (rank from 1), so an item both lists
 * rank well comes first. Ties keep the first list's order.
 */
export function fuseRanks<T extends { id: string }>(lists: T[][], c = 60): { item: T; score: number }[] {
  const fused = new Map<string, { item: T; score: number; order: number }>();
  let order = 0;
  for (const list of lists) {
    list.forEach((item, i) => {
      const entry = fused.get(item.id) ?? { item, score: 0, order: order++ };
      entry.score += 1 / (c + i + 1);
      fused.set(item.id, entry);
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score || a.order - b.order).map(({ item, score }) => ({ item, score }));
}
