import type { EntityManager } from '@mikro-orm/postgresql';
import type { JobQueue } from '../queue/job-queue.js';
import { uuidArray } from '../core/uuid.js';

export const INGEST_QUEUE = 'ingest';

export function ingestJobId(knowledgeId: string): string {
  return `ingest-${knowledgeId}`;
}

/**
 * Queues the ingestion of stored knowledge items, each with its server's fair share: a job's priority is how many
 * items its server has waiting or being learned, this one included. A server's first file goes before another
 * server's second, so two big files from one server never hold up learning everywhere else. The "server" is the
 * one the item was added in, else the character's, else (DMs, personal characters) the person who added it.
 * `again` gives the job a fresh id, for an item learned before and changed since (its old job is remembered).
 */
export async function queueIngest(em: EntityManager, queue: JobQueue, ids: string[], options: { again?: boolean } = {}): Promise<void> {
  if (ids.length === 0) return;
  const shares = await inFlightPerShare(em, ids);
  for (const id of ids) {
    const jobId = options.again ? `${ingestJobId(id)}-${Date.now()}` : ingestJobId(id);
    await queue.add(INGEST_QUEUE, { knowledgeId: id }, { jobId, attempts: 3, backoffMs: 5000, priority: Math.max(1, shares.get(id) ?? 1) });
  }
}

/** For each item, how many items of its share are pending or processing now. */
async function inFlightPerShare(em: EntityManager, ids: string[]): Promise<Map<string, number>> {
  const rows = await em.execute<{ id: string; in_flight: number }[]>(
    `with items as (
       select k.id, k.status, coalesce(k.metadata->>'guild', c.guild_id::text, k.uploaded_by_id::text, '') as share
       from character_knowledge k join characters c on c.id = k.character_id
       where k.status in ('pending', 'processing') or k.id = any(?::uuid[])
     )
     select i.id, (select count(*) from items o where o.share = i.share and o.status in ('pending', 'processing'))::int as in_flight
     from items i where i.id = any(?::uuid[])`,
    [uuidArray(ids), uuidArray(ids)],
  );
  return new Map(rows.map((row) => [row.id, Number(row.in_flight)]));
}
