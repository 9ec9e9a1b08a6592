import type { EntityManager } from '@mikro-orm/postgresql';
import pgvector from 'pgvector';
import type { Embedder } from '../embeddings/embedder.js';
import { insertPieces, piecesOf } from './pieces.js';
import { uuidArray } from '../core/uuid.js';

const INDEX = 'idx_vector_memories_embedding';
const PIECES_INDEX = 'idx_memory_pieces_embedding';

export interface ReembedProgress {
  done: number;
  total: number;
}

export interface ReembedResult {
  reembedded: number;
  /** The column's dimension before, when it had to change. */
  resizedFrom?: number;
}

/**
 * Re-embeds every stored memory (knowledge chunks, lore and conversation
 * memories) with `embedder`, from the text kept beside each vector: no file is
 * downloaded again (Discord's attachment links expire). A conversation
 * memory's pieces (its sentences, src/memory/pieces.ts) are written again with
 * it, in the same transaction; memories made before pieces existed get theirs
 * (the backfill). When the embedder's dimension differs from the columns',
 * the columns are changed first and their vectors cleared. Resumable: a row
 * already embedded by this embedder (with its pieces) is skipped, so running
 * it again after a crash finishes the rest. The HNSW indexes are dropped
 * while the vectors are rewritten and rebuilt once at the end.
 */
export async function reembedAll(
  em: EntityManager,
  embedder: Embedder,
  options: { batchSize?: number; onProgress?: (progress: ReembedProgress) => void } = {},
): Promise<ReembedResult> {
  const batchSize = options.batchSize ?? 128;
  const current = await columnDimension(em);
  const resized = current !== embedder.dimension;
  const stale = `(embedding is null or metadata->>'embedder' is distinct from ?
       or (memory_type = 'conversation' and not jsonb_exists(coalesce(metadata, '{}'::jsonb), 'pieces')))`;
  if (!resized) {
    const [pending] = await em.execute<{ any: boolean }[]>(`select exists (select 1 from vector_memories where ${stale}) as any`, [
      embedder.id,
    ]);
    // Nothing to do: keep the index rather than rebuilding it for nothing.
    if (!pending!.any) return { reembedded: 0 };
  }
  for (const index of [INDEX, PIECES_INDEX]) await em.execute(`drop index if exists ${index}`, [], 'run');
  if (resized) {
    for (const table of ['vector_memories', 'memory_pieces']) {
      await em.execute(`alter table ${table} alter column embedding type vector(${Math.trunc(embedder.dimension)}) using null`, [], 'run');
    }
  }
  const [counted] = await em.execute<{ total: number }[]>(`select count(*)::int as total from vector_memories where ${stale}`, [
    embedder.id,
  ]);
  const total = counted!.total;
  let done = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await em.execute<{ id: string; content: string; memory_type: string }[]>(
      `select id, content, memory_type from vector_memories where id > ? and ${stale} order by id limit ?`,
      [after, embedder.id, batchSize],
    );
    if (rows.length === 0) break;
    await reembedBatch(em, embedder, rows);
    done += rows.length;
    after = rows.at(-1)!.id;
    options.onProgress?.({ done, total });
  }
  await em.execute(`create index if not exists ${INDEX} on vector_memories using hnsw (embedding vector_cosine_ops)`, [], 'run');
  await em.execute(`create index if not exists ${PIECES_INDEX} on memory_pieces using hnsw (embedding vector_cosine_ops)`, [], 'run');
  return { reembedded: done, ...(resized ? { resizedFrom: current } : {}) };
}

/** New vectors for a batch of memories and, for conversation memories, their pieces written again: one transaction. */
async function reembedBatch(em: EntityManager, embedder: Embedder, rows: { id: string; content: string; memory_type: string }[]) {
  const pieces = rows.map((row) => (row.memory_type === 'conversation' ? piecesOf(row.content) : undefined));
  const vectors = await embedder.embed([...rows.map((row) => row.content), ...pieces.flatMap((list) => list ?? [])]);
  let next = rows.length;
  const params: unknown[] = [];
  const tuples = rows.map((row, index) => {
    params.push(
      row.id,
      pgvector.toSql(vectors[index]!),
      pieces[index] === undefined ? null : JSON.stringify({ pieces: pieces[index]!.length }),
    );
    return `(?::uuid, ?::vector, ?::jsonb)`;
  });
  await em.transactional(async (tx) => {
    await tx.execute(
      `update vector_memories m
          set embedding = v.embedding,
              metadata = coalesce(m.metadata, '{}'::jsonb) || jsonb_build_object('embedder', ?::text) || coalesce(v.extra, '{}'::jsonb)
         from (values ${tuples.join(', ')}) as v(id, embedding, extra)
        where m.id = v.id`,
      [embedder.id, ...params],
      'run',
    );
    const conversation = rows.filter((_, index) => pieces[index] !== undefined).map((row) => row.id);
    if (conversation.length)
      await tx.execute('delete from memory_pieces where memory_id = any(?::uuid[])', [uuidArray(conversation)], 'run');
    for (const [index, row] of rows.entries()) {
      const list = pieces[index] ?? [];
      await insertPieces(
        tx,
        row.id,
        list.map((content, i) => ({ content, embedding: vectors[next + i]! })),
      );
      next += list.length;
    }
  });
}

async function columnDimension(em: EntityManager): Promise<number> {
  const rows = await em.execute<{ dimension: number }[]>(
    `select atttypmod as dimension from pg_attribute where attrelid = 'vector_memories'::regclass and attname = 'embedding'`,
  );
  return rows[0]!.dimension;
}
