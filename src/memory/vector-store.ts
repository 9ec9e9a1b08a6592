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
   * back when k rows exist.
   */
  exactScanLimit?: number;
  /** HNSW candidate list size (hnsw.ef_search). */
  efSearch?: number;
}

const COLUMNS = ['content', 'embedding', 'memory_type', 'conversation_id', 'character_id', 'knowledge_id', 'user_id', 'message_id', 'metadata'];
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
  const result = await em.execute<{ affectedRows: number }>(
    'delete from vector_memories where knowledge_id = ?',
    [knowledgeId],
    'run',
  );
  return result.affectedRows;
}

/**
 * Top-k memories by cosine distance within a scope, nearest first.
 *
 * pgvector applies a WHERE filter after the HNSW scan, so a selective filter
 * can silently return fewer than k rows. Small scopes are therefore scanned
 * exactly through their B-tree index; large ones use HNSW with
 * `hnsw.iterative_scan`, and fall back to an exact scan if that still comes
 * up short.
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
  const scoped = params.length > 0;
  const exactScanLimit = options.exactScanLimit ?? 10_000;

  if (scoped) {
    const exact = await boundedExactSearch(em, vector, where, params, k, exactScanLimit);
    if (exact) return exact;
  }
  const hits = await approximateSearch(em, embedding, scope, { k, efSearch: options.efSearch });
  if (hits.length === k || !scoped) return hits;
  return exactSearch(em, vector, where, params, k);
}

/**
 * HNSW search with pgvector's iterative index scan, which keeps scanning until
 * enough rows pass the filter (or hnsw.max_scan_tuples is reached).
 */
export async function approximateSearch(
  em: EntityManager,
  embedding: number[],
  scope: MemoryScope,
  options: { k: number; efSearch?: number },
): Promise<MemoryHit[]> {
  const vector = pgvector.toSql(embedding);
  const { where, params } = scopeFilter(scope);
  const efSearch = Math.max(options.k, Math.trunc(options.efSearch ?? 100));
  return em.transactional(async (tx) => {
    await tx.execute(`set local hnsw.ef_search = ${efSearch}`, [], 'run');
    await tx.execute(`set local hnsw.iterative_scan = relaxed_order`, [], 'run');
    // relaxed_order may return rows slightly out of order: the outer query re-sorts them.
    const rows = await tx.execute<HitRow[]>(
      `with candidates as materialized (
         select ${SELECT_FIELDS}, embedding <=> ? as distance
           from vector_memories ${where}
          order by embedding <=> ?
          limit ${options.k}
       ) select * from candidates order by distance`,
      [vector, ...params, vector],
    );
    return rows.map(toHit);
  });
}

const SELECT_FIELDS =
  'id, content, memory_type, metadata, conversation_id, character_id, knowledge_id, user_id, message_id, created_at';

interface HitRow {
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

async function exactSearch(
  em: EntityManager,
  vector: string | null,
  where: string,
  params: unknown[],
  k: number,
): Promise<MemoryHit[]> {
  // "+ 0" keeps the planner off the HNSW index: every row in scope is compared.
  const rows = await em.execute<HitRow[]>(
    `select ${SELECT_FIELDS}, embedding <=> ? as distance
       from vector_memories ${where}
      order by (embedding <=> ?) + 0 nulls last, id
      limit ${k}`,
    [vector, ...params, vector],
  );
  return rows.map(toHit);
}

/**
 * One query: scans at most `limit + 1` rows of the scope through its B-tree
 * index, and returns the k nearest when the whole scope fit (else undefined).
 */
async function boundedExactSearch(
  em: EntityManager,
  vector: string | null,
  where: string,
  params: unknown[],
  k: number,
  limit: number,
): Promise<MemoryHit[] | undefined> {
  const rows = await em.execute<(HitRow & { scope_rows: string | number })[]>(
    `with scoped as materialized (
       select ${SELECT_FIELDS}, embedding <=> ? as distance from vector_memories ${where} limit ${limit + 1}
     )
     select scoped.*, (select count(*) from scoped) as scope_rows
       from scoped order by distance nulls last, id limit ${k}`,
    [vector, ...params],
  );
  if (rows.length && Number(rows[0]!.scope_rows) > limit) return undefined;
  return rows.map(toHit);
}

function scopeFilter(scope: MemoryScope): { where: string; params: unknown[] } {
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
  return { where: clauses.length ? `where ${clauses.join(' and ')}` : '', params };
}

function toHit(row: HitRow): MemoryHit {
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
