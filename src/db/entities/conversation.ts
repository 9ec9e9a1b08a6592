import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { Character } from './character.js';
import { createdAt, id, jsonObject, snowflake, updatedAt } from './common.js';
import { Guild } from './guild.js';
import { User } from './user.js';

const CONVERSATION_KINDS = ['channel', 'thread', 'dm'] as const;

/** One per bound Discord channel, thread or DM. Scenes list their characters in conversation_participants. */
export const Conversation = defineEntity({
  name: 'Conversation',
  tableName: 'conversations',
  properties: {
    id: id(),
    discordChannelId: snowflake().unique(),
    kind: p.enum(CONVERSATION_KINDS).nativeEnumName('conversation_kind').default('channel'),
    guild: () => p.manyToOne(Guild).nullable().deleteRule('cascade').index('idx_conversations_guild_id'),
    /** Who started it. A channel is shared, so losing that user keeps the conversation. */
    user: () => p.manyToOne(User).nullable().deleteRule('set null').index('idx_conversations_user_id'),
    /** The character bound to a plain channel or DM; null for a scene. */
    character: () => p.manyToOne(Character).nullable().deleteRule('cascade').index('idx_conversations_character_id'),
    title: p.string().length(255).nullable(),
    messageCount: p.integer().default(0),
    totalTokens: p.integer().default(0),
    settings: jsonObject(),
    /** Every member of the server can read it (from Discord's permissions as messages arrive); null when not known. */
    isPublic: p.boolean().nullable(),
    createdAt: createdAt().index('idx_conversations_created_at'),
    updatedAt: updatedAt(),
  },
});
export type IConversation = InferEntity<typeof Conversation>;
