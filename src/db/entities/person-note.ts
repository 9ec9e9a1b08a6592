import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { Character } from './character.js';
import { createdAt, id, jsonArray, updatedAt } from './common.js';
import { Conversation } from './conversation.js';
import { User } from './user.js';

/** The longest note, in characters. */
const NOTE_MAX_CHARS = 300;

/**
 * A durable fact a character keeps about one person (src/memory/notes.ts): keyed to the real person, whatever
 * persona they wore (`persona` says which one said it). `conversation` is where it was said: the privacy rule
 * reads its visibility.
 */
export const PersonNote = defineEntity({
  name: 'PersonNote',
  tableName: 'person_notes',
  indexes: [{ name: 'idx_person_notes_user_character', properties: ['user', 'character'] }],
  properties: {
    id: id(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    character: () => p.manyToOne(Character).deleteRule('cascade'),
    conversation: () => p.manyToOne(Conversation).nullable().deleteRule('cascade').index('idx_person_notes_conversation'),
    content: p.string().length(NOTE_MAX_CHARS),
    persona: p.string().length(80).nullable(),
    /** The stored messages it came from: forgetting any of them forgets it. */
    messageIds: jsonArray<string>(),
    /** Said when the person was alone with the character: it may travel to their other conversations. */
    shared: p.boolean().default(false),
    /** Written or changed by the person (/memory notes). */
    edited: p.boolean().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
});
export type IPersonNote = InferEntity<typeof PersonNote>;
