import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { createdAt, id, jsonObject, snowflake, updatedAt } from './common.js';

/** Per-server settings (roles allowed to create characters, limits, provider policy) live in `settings`. */
export const Guild = defineEntity({
  name: 'Guild',
  tableName: 'guilds',
  properties: {
    id: id(),
    discordId: snowflake().unique(),
    name: p.string().length(100).nullable(),
    settings: jsonObject(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
});
export type IGuild = InferEntity<typeof Guild>;
