import { Migration } from '@mikro-orm/migrations';
import type { SchemaSettings } from './Migration20261122230000_initial.js';

export const MEMORY_PIECES_MIGRATION = 'Migration20261204140000_memory_pieces';

/**
 * Pieces of conversation memories (issue 15): each sentence of an exchange with its own vector, so recall can rank
 * the exchange by its nearest sentence (a fact said in one line of a long exchange is diluted in the exchange's
 * single vector). Same dimension and HNSW cosine index as vector_memories; gone with their memory (ON DELETE
 * CASCADE), so every path that deletes memories leaves none behind. Memories made earlier have none until
 * `npm run reembed` writes them; recall still ranks those by their own vector.
 */
export function memoryPieces({ embeddingDimension }: SchemaSettings) {
  const dimension = Math.trunc(embeddingDimension);
  return class MemoryPieces extends Migration {
    override name = MEMORY_PIECES_MIGRATION;

    override up(): void {
      this.addSql(
        `create table "memory_pieces" ("id" uuid not null default gen_random_uuid(), "memory_id" uuid not null, ` +
          `"content" text not null, "embedding" vector(${dimension}) null, primary key ("id"))`,
      );
      this.addSql(
        `alter table "memory_pieces" add constraint "memory_pieces_memory_id_foreign" foreign key ("memory_id") references "vector_memories" ("id") on delete cascade`,
      );
      this.addSql(`create index "idx_memory_pieces_memory" on "memory_pieces" ("memory_id")`);
      this.addSql(`create index "idx_memory_pieces_embedding" on "memory_pieces" using hnsw ("embedding" vector_cosine_ops)`);
    }

    override down(): void {
      this.addSql(`drop table if exists "memory_pieces"`);
    }
  };
}
