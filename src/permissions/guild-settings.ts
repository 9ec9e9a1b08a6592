import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { IGuild } from '../db/entities/index.js';

/** What a server can allow to some roles only. */
export const GUILD_ACTIONS = ['createCharacters', 'startScenes', 'uploadKnowledge', 'addProviders'] as const;
export type GuildAction = (typeof GUILD_ACTIONS)[number];

export const ACTION_LABELS: Record<GuildAction, string> = {
  createCharacters: 'create characters',
  startScenes: 'start scenes',
  uploadKnowledge: 'change knowledge and lore',
  addProviders: 'add server AI providers',
};

const snowflake = z.string().regex(/^\d{1,20}$/);

/** `everyone`, or only members with one of these roles (an empty list: server admins only). */
const roleRule = z.union([z.literal('everyone'), z.array(snowflake).max(50)]);
export type RoleRule = z.infer<typeof roleRule>;

/**
 * Everyone may do everything by default except add server providers, which
 * stays with server admins (Manage Server) until they grant it to roles.
 */
export const DEFAULT_ROLE_RULES: Record<GuildAction, RoleRule> = {
  createCharacters: 'everyone',
  startScenes: 'everyone',
  uploadKnowledge: 'everyone',
  addProviders: [],
};

const rolesSchema = z.object(
  Object.fromEntries(
    GUILD_ACTIONS.map((action) => [action, roleRule.catch(DEFAULT_ROLE_RULES[action]).default(DEFAULT_ROLE_RULES[action])]),
  ) as Record<GuildAction, z.ZodDefault<z.ZodCatch<typeof roleRule>>>,
);

/** all: every channel; allow: only the listed ones; deny: all but the listed ones. Threads follow their parent. */
export const CHANNEL_MODES = ['all', 'allow', 'deny'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

const channelsSchema = z.object({
  mode: z.enum(CHANNEL_MODES).catch('all').default('all'),
  ids: z.array(snowflake).max(200).catch([]).default([]),
});

/**
 * The permission part of guilds.settings: each key is its own top-level
 * entry, so other settings kept there (allowUserKeys, limits…) are left alone.
 * A malformed stored value falls back to its default rather than locking a server out.
 */
export const guildAccessSchema = z.object({
  roles: rolesSchema.catch(() => rolesSchema.parse({})).prefault({}),
  channels: channelsSchema.catch(() => channelsSchema.parse({})).prefault({}),
  /** Characters that may not be started, added to scenes or answer in this server. */
  bannedCharacters: z.array(z.string().uuid()).max(1000).catch([]).default([]),
});
export type GuildAccess = z.infer<typeof guildAccessSchema>;
export type GuildAccessKey = keyof GuildAccess;

export function accessOf(guild: { settings: Record<string, unknown> | null } | null | undefined): GuildAccess {
  return guildAccessSchema.parse(guild?.settings ?? {});
}

/** The access settings of a Discord server by its id (defaults when the bot has not seen it yet). */
export async function loadAccess(em: EntityManager, discordGuildId: string): Promise<GuildAccess> {
  // Read as is from the table: the identity map may hold a guild row upserted without its settings.
  const rows = await em.execute<{ settings: Record<string, unknown> | null }[]>('select settings from guilds where discord_id = ?', [
    discordGuildId,
  ]);
  return accessOf(rows[0] ?? null);
}

/** The access settings of the actor's server, or undefined in DMs (no server rules apply). */
export async function accessFor(em: EntityManager, actor: { guild?: Pick<IGuild, 'discordId'> }): Promise<GuildAccess | undefined> {
  return actor.guild ? loadAccess(em, actor.guild.discordId) : undefined;
}

/**
 * Writes one part of a server's access settings, merged into the stored JSON
 * by the database so other keys of guilds.settings written meanwhile are kept.
 */
export async function saveAccess<K extends GuildAccessKey>(
  em: EntityManager,
  guild: IGuild,
  key: K,
  value: GuildAccess[K],
): Promise<GuildAccess> {
  const checked = guildAccessSchema.shape[key].parse(value) as GuildAccess[K];
  await em.execute(
    `update guilds set settings = coalesce(settings, '{}'::jsonb) || jsonb_build_object(?::text, ?::jsonb), updated_at = now() where id = ?`,
    [key, JSON.stringify(checked), guild.id],
    'run',
  );
  return loadAccess(em, guild.discordId);
}
