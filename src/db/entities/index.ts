import { Character } from './character.js';
import { CharacterKnowledge } from './character-knowledge.js';
import { Conversation } from './conversation.js';
import { ConversationParticipant } from './conversation-participant.js';
import { Guild } from './guild.js';
import { ImportDocument } from './import-document.js';
import { LlmProviderInstance } from './llm-provider-instance.js';
import { MemoryPiece } from './memory-piece.js';
import { Message } from './message.js';
import { Persona, PersonaChoice } from './persona.js';
import { PersonNote } from './person-note.js';
import { MessageImage } from './message-image.js';
import { StoryBranch } from './story-branch.js';
import { User } from './user.js';
import { VectorMemory } from './vector-memory.js';

export * from './character.js';
export * from './character-knowledge.js';
export * from './conversation.js';
export * from './conversation-participant.js';
export * from './guild.js';
export * from './import-document.js';
export * from './llm-provider-instance.js';
export * from './memory-piece.js';
export * from './message.js';
export * from './persona.js';
export * from './person-note.js';
export * from './message-image.js';
export * from './story-branch.js';
export * from './user.js';
export * from './vector-memory.js';

export const entities = [
  User,
  Guild,
  Character,
  Conversation,
  ConversationParticipant,
  Message,
  MessageImage,
  CharacterKnowledge,
  VectorMemory,
  MemoryPiece,
  ImportDocument,
  StoryBranch,
  LlmProviderInstance,
  Persona,
  PersonaChoice,
  PersonNote,
];
