import { Migration } from '@mikro-orm/migrations';

export const MEMORY_FULL_TEXT_MIGRATION = 'Migration20261203171506_memory_full_text';

/**
 * Full-text search beside the vectors: `search`, a tsvector PostgreSQL keeps
 * from `content` (English stemming and stop words), with a GIN index. Recall
 * fuses its matches with the nearest vectors (reciprocal rank fusion): the
 * names and rare words people repeat are what a word search finds best.
 */
export class MemoryFullText extends Migration {
  override name = MEMORY_FULL_TEXT_MIGRATION;

  override up(): void {
    this.addSql(
      `alter table "vector_memories" add column "search" tsvector generated always as (to_tsvector('english'::regconfig, "content")) stored`,
    );
    this.addSql(`create index "idx_vector_memories_search" on "vector_memories" using gin ("search")`);
  }

  override down(): void {
    this.addSql(`drop index if exists "idx_vector_memories_search"`);
    this.addSql(`alter table "vector_memories" drop column if exists "search"`);
  }
}
