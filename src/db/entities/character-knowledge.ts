import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { Character } from './character.js';
import { createdAt, id, jsonObject, updatedAt } from './common.js';
import { User } from './user.js';

export const IMPORT_SOURCE_TYPES = ['file', 'url', 'manual'] as const;
export const IMPORT_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** One knowledge source of a character (a file, a web page, a lore entry); its chunks live in vector_memories. */
export const CharacterKnowledge = defineEntity({
  name: 'CharacterKnowledge',
  tableName: 'character_knowledge',
  uniques: [{ properties: ['character', 'contentHash'] }],
  properties: {
    id: id(),
    character: () => p.manyToOne(Character).deleteRule('cascade').index('idx_character_knowledge_character'),
    uploadedBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    name: p.string().length(255),
    sourceType: p.enum(IMPORT_SOURCE_TYPES).nativeEnumName('import_source_type'),
    sourceName: p.string().length(255),
    mimeType: p.string().length(100).nullable(),
    fileSize: p.bigint('number').nullable(),
    /** sha256 of the raw bytes: the same file twice for one character is stored once. */
    contentHash: p.string().length(64).nullable(),
    rawContent: p.text().nullable().lazy(),
    status: p.enum(IMPORT_STATUSES).nativeEnumName('import_status').default('pending').index('idx_character_knowledge_status'),
    processingInfo: p.json<Record<string, unknown>>().nullable(),
    /** Lore entries keep their keywords here. */
    metadata: jsonObject(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
});
export type ICharacterKnowledge = InferEntity<typeof CharacterKnowledge>;
