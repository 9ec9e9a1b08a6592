import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { Character } from './character.js';
import { createdAt, id } from './common.js';
import { Conversation } from './conversation.js';

/** A character taking part in a scene. `autoRespond` false is "muted". */
export const ConversationParticipant = defineEntity({
  name: 'ConversationParticipant',
  tableName: 'conversation_participants',
  uniques: [{ properties: ['conversation', 'character'] }],
  properties: {
    id: id(),
    conversation: () => p.manyToOne(Conversation).deleteRule('cascade').index('idx_participants_conversation'),
    character: () => p.manyToOne(Character).deleteRule('cascade'),
    isActive: p.boolean().default(true),
    autoRespond: p.boolean().default(true),
    createdAt: createdAt(),
  },
});
export type IConversationParticipant = InferEntity<typeof ConversationParticipant>;
