import type { EntityManager } from '@mikro-orm/postgresql';
import pgvector from 'pgvector';
import type { Embedder } from '../embeddings/embedder.js';

const INDEX = 'idx_vector_memories_embedding';

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
 * downloaded again (Discord's attachment links expire). When the embedder's
 * dimension differs from the column's, the column is changed first and its
 * vectors cleared. Resumable: a row already embedded by this embedder is
 * skipped, so running it again after a crash finishes the rest. The HNSW index
 * is dropped while the vectors are rewritten and rebuilt once at the end.
 */
export async function reembedAll(
  em: EntityManager,
  embedder: Embedder,
  options: { batchSize?: number; onProgress?: (progress: ReembedProgress) => void } = {},
): Promise<ReembedResult> {
  const batchSize = options.batchSize ?? 128;
  const current = await columnDimension(em);
  const resized = current !== embedder.dimension;
  const stale = `(embedding is null or metadata->>'embedder' is distinct from ?)`;
  if (!resized) {
    const [pending] = await em.execute<{ any: boolean }[]>(`select exists (select 1 from vector_memories where ${stale}) as any`, [
      embedder.id,
    ]);
    // Nothing to do: keep the index rather than rebuilding it for nothing.
    if (!pending!.any) return { reembedded: 0 };
  }
  await em.execute(`drop index if exists ${INDEX}`, [], 'run');
  if (resized) {
    await em.execute(
      `alter table vector_memories alter column embedding type vector(${Math.trunc(embedder.dimension)}) using null`,
      [],
      'run',
    );
  }
  const [counted] = await em.execute<{ total: number }[]>(`select count(*)::int as total from vector_memories where ${stale}`, [
    embedder.id,
  ]);
  const total = counted!.total;
  let done = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await em.execute<{ id: string; content: string }[]>(
      `select id, content from vector_memories where id > ? and ${stale} order by id limit ?`,
      [after, embedder.id, batchSize],
    );
    if (rows.length === 0) break;
    const vectors = await embedder.embed(rows.map((row) => row.content));
    const params: unknown[] = [];
    const tuples = rows.map((row, index) => {
      params.push(row.id, pgvector.toSql(vectors[index]!));
      return `(?::uuid, ?::vector)`;
    });
    await em.execute(
      `update vector_memories m
          set embedding = v.embedding,
              metadata = coalesce(m.metadata, '{}'::jsonb) || jsonb_build_object('embedder', ?::text)
         from (values ${tuples.join(', ')}) as v(id, embedding)
        where m.id = v.id`,
      [embedder.id, ...params],
      'run',
    );
    done += rows.length;
    after = rows.at(-1)!.id;
    options.onProgress?.({ done, total });
  }
  await em.execute(`create index if not exists ${INDEX} on vector_memories using hnsw (embedding vector_cosine_ops)`, [], 'run');
  return { reembedded: done, ...(resized ? { resizedFrom: current } : {}) };
}

async function columnDimension(em: EntityManager): Promise<number> {
  const rows = await em.execute<{ dimension: number }[]>(
    `select atttypmod as dimension from pg_attribute where attrelid = 'vector_memories'::regclass and attname = 'embedding'`,
  );
  return rows[0]!.dimension;
}
