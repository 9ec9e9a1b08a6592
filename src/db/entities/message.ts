import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { Character } from './character.js';
import { createdAt, id, jsonObject, snowflake } from './common.js';
import { Conversation } from './conversation.js';
import { User } from './user.js';

const MESSAGE_ROLES = ['user', 'assistant', 'system'] as const;

export const Message = defineEntity({
  name: 'Message',
  tableName: 'messages',
  indexes: [
    { name: 'idx_messages_conversation_created', properties: ['conversation', 'createdAt'] },
    // Pinned messages of a conversation (/memory pin).
    {
      name: 'idx_messages_pinned',
      expression: `create index "idx_messages_pinned" on "messages" ("conversation_id") where "pinned_at" is not null`,
    },
    // A person's usage: the replies they caused (metadata.spent.by), by time.
    {
      name: 'idx_messages_spent_by_created',
      expression: `create index "idx_messages_spent_by_created" on "messages" ((metadata #>> '{spent,by}'), "created_at") where "role" = 'assistant'`,
    },
  ],
  properties: {
    id: id(),
    conversation: () => p.manyToOne(Conversation).deleteRule('cascade').index('idx_messages_conversation_id'),
    role: p.enum(MESSAGE_ROLES).nativeEnumName('message_role'),
    content: p.text(),
    discordMessageId: snowflake().nullable().unique(),
    /** The person who wrote it (role user); kept as a name when the user is gone. */
    author: () => p.manyToOne(User).nullable().deleteRule('set null'),
    authorName: p.string().length(100).nullable(),
    /** The character who spoke (role assistant). */
    character: () => p.manyToOne(Character).nullable().deleteRule('set null'),
    tokensUsed: p.integer().nullable(),
    model: p.string().length(100).nullable(),
    metadata: jsonObject(),
    /** Kept always in its conversation's prompt since then (/memory pin). */
    pinnedAt: p.datetime().nullable(),
    createdAt: createdAt().index('idx_messages_created_at'),
  },
});
export type IMessage = InferEntity<typeof Message>;
