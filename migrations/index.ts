import type { MigrationObject } from '@mikro-orm/postgresql';
import { INITIAL_MIGRATION, initialSchema, type SchemaSettings } from './Migration20261122230000_initial.js';
import { SCOPED_MEMORY_INDEXES_MIGRATION, ScopedMemoryIndexes } from './Migration20261201130000_scoped_memory_indexes.js';
import { CONVERSATION_MEMORIES_MIGRATION, ConversationMemories } from './Migration20261201150000_conversation_memories.js';
import { USER_CHARACTER_TYPE_INDEX_MIGRATION, UserCharacterTypeIndex } from './Migration20261201170000_user_character_type_index.js';
import { USAGE_BY_PERSON_INDEX_MIGRATION, UsageByPersonIndex } from './Migration20261201180000_usage_by_person_index.js';
import { CARD_MODEL_MIGRATION, CardModel } from './Migration20261203170000_card_model.js';
import { CONVERSATION_VISIBILITY_MIGRATION, ConversationVisibility } from './Migration20261203171505_conversation_visibility.js';
import { MEMORY_FULL_TEXT_MIGRATION, MemoryFullText } from './Migration20261203171506_memory_full_text.js';
import { PERSONAS_MIGRATION, Personas } from './Migration20261203171900_personas.js';
import { MESSAGE_IMAGES_MIGRATION, MessageImages } from './Migration20261203171700_message_images.js';
import { PERSON_NOTES_MIGRATION, PersonNotes } from './Migration20261203211500_person_notes.js';
import { MEMORY_PIECES_MIGRATION, memoryPieces } from './Migration20261204140000_memory_pieces.js';

/**
 * Every migration, oldest first. They are listed here rather than found on
 * disk because some take settings (the embedding dimension). A new migration
 * is a new file in this folder plus a line here.
 */
export function createMigrationsList(settings: SchemaSettings): MigrationObject[] {
  return [
    { name: INITIAL_MIGRATION, class: initialSchema(settings) },
    { name: SCOPED_MEMORY_INDEXES_MIGRATION, class: ScopedMemoryIndexes },
    { name: CONVERSATION_MEMORIES_MIGRATION, class: ConversationMemories },
    { name: USER_CHARACTER_TYPE_INDEX_MIGRATION, class: UserCharacterTypeIndex },
    { name: USAGE_BY_PERSON_INDEX_MIGRATION, class: UsageByPersonIndex },
    { name: CARD_MODEL_MIGRATION, class: CardModel },
    { name: CONVERSATION_VISIBILITY_MIGRATION, class: ConversationVisibility },
    { name: MEMORY_FULL_TEXT_MIGRATION, class: MemoryFullText },
    { name: PERSONAS_MIGRATION, class: Personas },
    { name: MESSAGE_IMAGES_MIGRATION, class: MessageImages },
    { name: PERSON_NOTES_MIGRATION, class: PersonNotes },
    { name: MEMORY_PIECES_MIGRATION, class: memoryPieces(settings) },
  ];
}
