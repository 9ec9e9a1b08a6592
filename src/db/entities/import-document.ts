import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { IMPORT_SOURCE_TYPES, IMPORT_STATUSES } from './character-knowledge.js';
import { createdAt, id, jsonObject, updatedAt } from './common.js';
import { User } from './user.js';

/** A document imported by a user that is not (yet) any character's knowledge. */
export const ImportDocument = defineEntity({
  name: 'ImportDocument',
  tableName: 'import_documents',
  properties: {
    id: id(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('idx_import_documents_user_id'),
    sourceType: p.enum(IMPORT_SOURCE_TYPES).nativeEnumName('import_source_type'),
    sourceName: p.string().length(255),
    mimeType: p.string().length(100).nullable(),
    fileSize: p.bigint('number').nullable(),
    content: p.text().nullable().lazy(),
    status: p.enum(IMPORT_STATUSES).nativeEnumName('import_status').default('pending').index('idx_import_documents_status'),
    errorMessage: p.text().nullable(),
    metadata: jsonObject(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
});
export type IImportDocument = InferEntity<typeof ImportDocument>;
