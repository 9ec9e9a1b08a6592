import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { createdAt, id, snowflake, updatedAt } from './common.js';

const USER_ROLES = ['USER', 'ADMIN'] as const;

/** A Discord account that has used the bot. ADMIN means the bot's operator. */
export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: id(),
    discordId: snowflake().unique(),
    username: p.string().length(100).nullable(),
    role: p.enum(USER_ROLES).nativeEnumName('user_role').default('USER'),
    isActive: p.boolean().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
});
export type IUser = InferEntity<typeof User>;
