import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { VectorType } from 'pgvector/mikro-orm';
import { Character } from './character.js';
import { CharacterKnowledge } from './character-knowledge.js';
import { createdAt, id } from './common.js';
import { Conversation } from './conversation.js';
import { Message } from './message.js';
import { User } from './user.js';

/** An index over `columns` of the rows whose first column is set. */
function partialIndex(name: string, ...columns: string[]) {
  return {
    name,
    expression: `create index "${name}" on "vector_memories" (${columns.map((c) => `"${c}"`).join(', ')}) where "${columns[0]}" is not null`,
  };
}

export const MEMORY_TYPES = ['conversation', 'character'] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];

/**
 * A chunk of text and its embedding. The column is vector(EMBEDDING_DIMENSION),
 * fixed by the migration; bulk reads and searches go through src/memory/vector-store.ts.
 */
export const VectorMemory = defineEntity({
  name: 'VectorMemory',
  tableName: 'vector_memories',
  // Written by the migration; declared here so the schema diff stays empty.
  indexes: [
    partialIndex('idx_vector_memories_conversation', 'conversation_id'),
    partialIndex('idx_vector_memories_character', 'character_id'),
    partialIndex('idx_vector_memories_knowledge', 'knowledge_id'),
    // Recall's two scoped searches (migration 20261201130000).
    partialIndex('idx_vector_memories_character_type', 'character_id', 'memory_type'),
    partialIndex('idx_vector_memories_conversation_type', 'conversation_id', 'memory_type'),
    // A reply's memory (migration 20261201150000).
    partialIndex('idx_vector_memories_message', 'message_id'),
    // One person's memories with one character (migration 20261201170000 added memory_type).
    partialIndex('idx_vector_memories_user_character_type', 'user_id', 'character_id', 'memory_type'),
    { name: 'idx_vector_memories_type', properties: ['memoryType'] },
    // Full-text search (migration 20261203171506).
    {
      name: 'idx_vector_memories_search',
      expression: 'create index "idx_vector_memories_search" on "vector_memories" using gin ("search")',
    },
    {
      name: 'idx_vector_memories_embedding',
      expression: 'create index "idx_vector_memories_embedding" on "vector_memories" using hnsw ("embedding" vector_cosine_ops)',
    },
  ],
  checks: [
    {
      name: 'vector_memories_owner_check',
      expression: 'conversation_id is not null or character_id is not null or knowledge_id is not null',
    },
  ],
  properties: {
    id: id(),
    content: p.text(),
    embedding: p.type(VectorType).nullable().lazy(),
    /** The content's words for full-text search, kept by PostgreSQL (a generated column). */
    search: p.type('tsvector').generated(`to_tsvector('english'::regconfig, content) stored`).nullable().lazy(),
    memoryType: p.enum(MEMORY_TYPES).nativeEnumName('memory_type').default('conversation'),
    metadata: p.json<Record<string, unknown>>().nullable(),
    createdAt: createdAt(),
    conversation: () => p.manyToOne(Conversation).nullable().deleteRule('cascade'),
    character: () => p.manyToOne(Character).nullable().deleteRule('cascade'),
    knowledge: () => p.manyToOne(CharacterKnowledge).nullable().deleteRule('cascade'),
    /** Conversation memories: the person the exchange was with. */
    user: () => p.manyToOne(User).nullable().deleteRule('cascade'),
    /** Conversation memories: the character's reply they remember. */
    message: () => p.manyToOne(Message).nullable().deleteRule('cascade'),
  },
});
export type IVectorMemory = InferEntity<typeof VectorMemory>;
