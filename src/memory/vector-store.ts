import type { EntityManager } from '@mikro-orm/postgresql';
import pgvector from 'pgvector';
import type { MemoryType } from '../db/entities/index.js';

export interface MemoryInput {
  content: string;
  embedding: number[];
  memoryType: MemoryType;
  conversationId?: string;
  characterId?: string;
  knowledgeId?: string;
  /** Conversation memories: the person the exchange was with, and the reply remembered. */
  userId?: string;
  messageId?: string;
  metadata?: Record<string, unknown>;
}

/** Every given field must match (AND). An empty scope searches everything. */
export interface MemoryScope {
  characterId?: string;
  conversationId?: string;
  knowledgeId?: string;
  memoryType?: MemoryType;
  userId?: string;
  /** Leave this conversation out (memories from the person's other conversations). */
  excludeConversationId?: string;
  /** Only memories from conversations in this server; '' for direct messages. */
  guildId?: string;
  /** Only memories made at or after this time (a character that joined a scene late knows nothing earlier). */
  createdAfter?: Date;
  /**
   * Leave out the passages of lore entries (knowledge items with metadata.lore) that are not `vectorized`:
   * their keywords bring them in, so vector recall must not (SillyTavern's world info works the same way).
   */
  withoutKeywordLore?: boolean;
  /** Only memories of conversations every member of this server (Discord id) can read: its public channels and threads. */
  publicChannelsOf?: string;
  /** Only exchanges in which this person (user id) was the only one who spoke besides the character. */
  soloWith?: string;
}

export interface MemoryHit {
  id: string;
  content: string;
  memoryType: MemoryType;
  metadata: Record<string, unknown> | null;
  conversationId: string | null;
  characterId: string | null;
  knowledgeId: string | null;
  userId: string | null;
  messageId: string | null;
  createdAt: Date;
  /** Cosine distance, 0 (same direction) to 2 (opposite). */
  distance: number;
  /** 1 - distance. */
  similarity: number;
}

export interface SearchOptions {
  k: number;
  /**
   * Scoped searches over at most this many rows scan them exactly; larger
   * scopes use the HNSW index with iterative scans. Either way k rows come
   * back when k rows exist. By default max(1000, 2·sqrt(k · table rows)), at most 5,000:
   * where an exact scan of the scope costs about what the filtered HNSW walk
   * would (it visits about k / selectivity rows, each dearer than a row of the
   * exact scan).
   */
  exactScanLimit?: number;
  /** HNSW candidate list size (hnsw.ef_search). */
  efSearch?: number;
  /** Called with each statement the search runs (the retrieval bench explains them). */
  onQuery?: QueryListener;
}

/** A statement as run: its SQL and parameters. */
export type QueryListener = (query: { sql: string; params: unknown[] }) => void;

const COLUMNS = [
  'content',
  'embedding',
  'memory_type',
  'conversation_id',
  'character_id',
  'knowledge_id',
  'user_id',
  'message_id',
  'metadata',
];
const ROWS_PER_INSERT = 500;

/** Inserts memories in multi-row batches; returns their ids in input order. */
export async function insertMemories(em: EntityManager, memories: MemoryInput[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < memories.length; start += ROWS_PER_INSERT) {
    const batch = memories.slice(start, start + ROWS_PER_INSERT);
    const params: unknown[] = [];
    const tuples = batch.map((memory) => {
      params.push(
        memory.content,
        pgvector.toSql(memory.embedding),
        memory.memoryType,
        memory.conversationId ?? null,
        memory.characterId ?? null,
        memory.knowledgeId ?? null,
        memory.userId ?? null,
        memory.messageId ?? null,
        memory.metadata === undefined ? null : JSON.stringify(memory.metadata),
      );
      return `(${COLUMNS.map(() => '?').join(', ')})`;
    });
    const rows = await em.execute<{ id: string }[]>(
      `insert into vector_memories (${COLUMNS.join(', ')}) values ${tuples.join(', ')} returning id`,
      params,
    );
    ids.push(...rows.map((row) => row.id));
  }
  return ids;
}

/** Deletes every chunk of one knowledge item (before re-ingesting it, say). */
export async function deleteKnowledgeMemories(em: EntityManager, knowledgeId: string): Promise<number> {
  const result = await em.execute<{ affectedRows: number }>('delete from vector_memories where knowledge_id = ?', [knowledgeId], 'run');
  return result.affectedRows;
}

/**
 * Top-k memories by cosine distance within a scope, nearest first.
 *
 * pgvector applies a WHERE filter after the HNSW scan, so a selective filter
 * can silently return fewer than k rows, and an iterative scan under it walks
 * about k / selectivity rows of the graph. So, in one statement: the scope is
 * counted through its B-tree index (at most exactScanLimit + 1 entries); a
 * scope that fits is ranked exactly, a larger one through HNSW with
 * `hnsw.iterative_scan`. If that still comes up short (hnsw.max_scan_tuples
 * reached), a second statement ranks the scope exactly.
 */
export async function searchMemories(
  em: EntityManager,
  embedding: number[],
  scope: MemoryScope,
  options: SearchOptions,
): Promise<MemoryHit[]> {
  const k = Math.max(1, Math.trunc(options.k));
  const vector = pgvector.toSql(embedding);
  const { where, params } = scopeFilter(scope);
  const efSearch = Math.max(k, Math.trunc(options.efSearch ?? 100));
  if (!params.length) return approximateSearch(em, embedding, scope, { k, efSearch, onQuery: options.onQuery });

  // The default limit is worked out by the statement itself, from the planner's row count of the table.
  const limit =
    options.exactScanLimit === undefined
      ? `least(${MAX_DEFAULT_EXACT_SCAN}, greatest(1000, 2 * sqrt(${k} * (select greatest(reltuples, 0) from pg_class where oid = 'vector_memories'::regclass))))::int`
      : String(Math.max(0, Math.trunc(options.exactScanLimit)));
  // A constant bound on the exact branch keeps its cost estimate (and so the plan, and JIT) that of a scope
  // that fits, even when the scope is large and the branch will not run.
  const planBound = (options.exactScanLimit === undefined ? MAX_DEFAULT_EXACT_SCAN : Math.max(0, Math.trunc(options.exactScanLimit))) + 1;
  // One-time filters (evaluated once, before the scans start) run only the branch that applies.
  const sql = `with bound as materialized (select ${limit} as scan_limit),
     counted as materialized (
       select count(*) as scope_rows, (select scan_limit from bound) as scan_limit
         from (select 1 from vector_memories ${where} limit (select scan_limit + 1 from bound)) scope
     ),
     exact as materialized (
       select * from (${scopeScan(where, 'and (select scope_rows <= scan_limit from counted)', planBound)}) scoped
        order by distance nulls last, id limit ${k}
     ),
     approximate as materialized (${hnswScan(where, k, efSearch, '(select scope_rows > scan_limit from counted)')})
     select counted.scope_rows, counted.scan_limit, hits.*
       from counted left join (select * from exact union all select * from approximate) hits on true
      order by hits.distance nulls last, hits.id`;
  const all = [...params, vector, ...params, vector, vector, ...params];
  options.onQuery?.({ sql, params: all });
  const rows = await em.execute<(Partial<HitRow> & { scope_rows: string | number; scan_limit: string | number })[]>(sql, all);
  const hits = rows.filter((row): row is HitRow & { scope_rows: string; scan_limit: string } => row.id != null).map(toHit);
  const [first] = rows;
  const fits = !first || Number(first.scope_rows) <= Number(first.scan_limit);
  if (fits || hits.length === k) return hits;
  return exactSearch(em, vector, where, params, k, options.onQuery);
}

/**
 * HNSW search with pgvector's iterative index scan, which keeps scanning until
 * enough rows pass the filter (or hnsw.max_scan_tuples is reached).
 */
export async function approximateSearch(
  em: EntityManager,
  embedding: number[],
  scope: MemoryScope,
  options: { k: number; efSearch?: number; onQuery?: QueryListener },
): Promise<MemoryHit[]> {
  const vector = pgvector.toSql(embedding);
  const { where, params } = scopeFilter(scope);
  const k = Math.max(1, Math.trunc(options.k));
  const efSearch = Math.max(k, Math.trunc(options.efSearch ?? 100));
  // relaxed_order may return rows slightly out of order: re-sort them.
  const sql = `with candidates as materialized (${hnswScan(where, k, efSearch)}) select * from candidates order by distance`;
  const all = [vector, vector, ...params];
  options.onQuery?.({ sql, params: all });
  const rows = await em.execute<HitRow[]>(sql, all);
  return rows.map(toHit);
}

/**
 * The k nearest rows of the scope by the HNSW index, as one statement and
 * without a transaction: set_config makes the settings transaction-local, in
 * a one-time filter PostgreSQL evaluates before the index scan fetches its
 * first row. The inner LIMIT (the iterative scan never returns more rows
 * anyway) keeps the scope filter out of the subquery and tells the planner
 * only the first rows are wanted, so it walks the index whatever it guesses
 * of the scope's size (it underestimates multi-column scopes, and at a
 * million rows would otherwise rather sort the whole table).
 * Parameters: vector, vector, ...scope.
 */
function hnswScan(where: string, k: number, efSearch: number, gate = 'true'): string {
  return `select * from (
         select ${SELECT_FIELDS}, embedding <=> ? as distance
           from vector_memories
          where ${gate} and (select set_config('hnsw.ef_search', '${efSearch}', true)
                                 || set_config('hnsw.iterative_scan', 'relaxed_order', true)
                                 || set_config('hnsw.max_scan_tuples', '${HNSW_MAX_SCAN_TUPLES}', true)) is not null
          order by embedding <=> ?
          limit ${HNSW_MAX_SCAN_TUPLES}
       ) nearest ${where}
        limit ${k}`;
}

/**
 * Every row of the scope with its distance, in no order: "offset 0" (or the
 * bound) keeps the planner from merging an ORDER BY above into an HNSW index
 * scan, and the distance is computed once per row. Parameters: vector, ...scope.
 */
function scopeScan(where: string, gate = '', bound?: number): string {
  return `select ${SELECT_FIELDS}, embedding <=> ? as distance from vector_memories ${where} ${gate} ${bound ? `limit ${bound}` : 'offset 0'}`;
}

/** hnsw.max_scan_tuples: how far an iterative scan goes before the exact fallback takes over. */
const HNSW_MAX_SCAN_TUPLES = 20_000;
/** The adaptive exactScanLimit's ceiling. */
const MAX_DEFAULT_EXACT_SCAN = 5_000;

export const SELECT_FIELDS =
  'id, content, memory_type, metadata, conversation_id, character_id, knowledge_id, user_id, message_id, created_at';

export interface HitRow {
  id: string;
  content: string;
  memory_type: MemoryType;
  metadata: Record<string, unknown> | null;
  conversation_id: string | null;
  character_id: string | null;
  knowledge_id: string | null;
  user_id: string | null;
  message_id: string | null;
  created_at: Date | string;
  distance: number | string;
}

/** Every row of the scope compared: the k nearest, exactly. */
async function exactSearch(
  em: EntityManager,
  vector: string | null,
  where: string,
  params: unknown[],
  k: number,
  onQuery?: QueryListener,
): Promise<MemoryHit[]> {
  const sql = `select * from (${scopeScan(where)}) scoped order by distance nulls last, id limit ${k}`;
  const all = [vector, ...params];
  onQuery?.({ sql, params: all });
  const rows = await em.execute<HitRow[]>(sql, all);
  return rows.map(toHit);
}

export function scopeFilter(scope: MemoryScope): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (column: string, value: unknown) => {
    params.push(value);
    clauses.push(`${column} = ?`);
  };
  if (scope.characterId) add('character_id', scope.characterId);
  if (scope.conversationId) add('conversation_id', scope.conversationId);
  if (scope.knowledgeId) add('knowledge_id', scope.knowledgeId);
  if (scope.memoryType) add('memory_type', scope.memoryType);
  if (scope.userId) add('user_id', scope.userId);
  if (scope.excludeConversationId) {
    params.push(scope.excludeConversationId);
    clauses.push('conversation_id is distinct from ?');
  }
  if (scope.guildId !== undefined) add(`coalesce(metadata->>'guildId', '')`, scope.guildId);
  if (scope.createdAfter) {
    params.push(scope.createdAfter);
    clauses.push('created_at >= ?');
  }
  if (scope.withoutKeywordLore) clauses.push(keywordLoreFilter(scope.characterId, params));
  if (scope.publicChannelsOf !== undefined) {
    params.push(scope.publicChannelsOf);
    // Read once (an InitPlan): the server's conversations known to be public now.
    clauses.push(`conversation_id = any(array(
       select c.id from conversations c join guilds g on g.id = c.guild_id where g.discord_id = ? and c.is_public))`);
  }
  if (scope.soloWith) {
    params.push(JSON.stringify([scope.soloWith]));
    clauses.push(`metadata->'userIds' = ?::jsonb`);
  }
  return { where: clauses.length ? `where ${clauses.join(' and ')}` : '', params };
}

/**
 * Rows that are not passages of a keyword-only lore entry. With a character,
 * its keyword-only lore ids are read once (an InitPlan) and compared per row;
 * without one, each row with a knowledge id looks its item up.
 */
function keywordLoreFilter(characterId: string | undefined, params: unknown[]): string {
  const keywordOnly = `k.source_type = 'manual' and jsonb_exists(k.metadata, 'lore')
       and coalesce((k.metadata->'lore'->>'vectorized')::boolean, false) = false`;
  if (characterId) {
    params.push(characterId);
    return `(knowledge_id is null or not (knowledge_id = any(array(
       select k.id from character_knowledge k where k.character_id = ? and ${keywordOnly}))))`;
  }
  return `(knowledge_id is null or not exists (
       select 1 from character_knowledge k where k.id = knowledge_id and ${keywordOnly}))`;
}

export function toHit(row: HitRow): MemoryHit {
  const distance = Number(row.distance);
  return {
    id: row.id,
    content: row.content,
    memoryType: row.memory_type,
    metadata: row.metadata,
    conversationId: row.conversation_id,
    characterId: row.character_id,
    knowledgeId: row.knowledge_id,
    userId: row.user_id,
    messageId: row.message_id,
    createdAt: new Date(row.created_at),
    distance,
    similarity: 1 - distance,
  };
}
