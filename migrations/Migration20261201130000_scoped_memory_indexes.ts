import { Migration } from '@mikro-orm/migrations';

export const SCOPED_MEMORY_INDEXES_MIGRATION = 'Migration20261201130000_scoped_memory_indexes';

/**
 * Recall asks for one character's knowledge and one conversation's memories:
 * (scope, memory_type) in one index each, instead of the planner AND-ing a
 * scope index with the low-selectivity memory_type index.
 */
export class ScopedMemoryIndexes extends Migration {
  override name = SCOPED_MEMORY_INDEXES_MIGRATION;

  override up(): void {
    this.addSql(
      `create index "idx_vector_memories_character_type" on "vector_memories" ("character_id", "memory_type") where "character_id" is not null`,
    );
    this.addSql(
      `create index "idx_vector_memories_conversation_type" on "vector_memories" ("conversation_id", "memory_type") where "conversation_id" is not null`,
    );
  }

  override down(): void {
    this.addSql(`drop index if exists "idx_vector_memories_conversation_type"`);
    this.addSql(`drop index if exists "idx_vector_memories_character_type"`);
  }
}
