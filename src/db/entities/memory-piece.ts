import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { VectorType } from 'pgvector/mikro-orm';
import { id } from './common.js';
import { VectorMemory } from './vector-memory.js';

/**
 * One sentence of a conversation memory with its own vector (src/memory/pieces.ts): recall ranks an exchange by
 * its nearest piece, so a fact said in one line of a long exchange is not lost in the exchange's single vector.
 * Only a ranking signal: the memory is what recall returns and filters. Goes with its memory.
 */
export const MemoryPiece = defineEntity({
  name: 'MemoryPiece',
  tableName: 'memory_pieces',
  indexes: [
    {
      name: 'idx_memory_pieces_embedding',
      expression: 'create index "idx_memory_pieces_embedding" on "memory_pieces" using hnsw ("embedding" vector_cosine_ops)',
    },
  ],
  properties: {
    id: id(),
    memory: () => p.manyToOne(VectorMemory).deleteRule('cascade').index('idx_memory_pieces_memory'),
    content: p.text(),
    embedding: p.type(VectorType).nullable().lazy(),
  },
});
export type IMemoryPiece = InferEntity<typeof MemoryPiece>;
