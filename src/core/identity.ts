import type { EntityManager } from '@mikro-orm/postgresql';
import { Guild, User, type IGuild, type IUser } from '../db/entities/index.js';

/** A Discord account as the adapters see it. */
export interface DiscordUserRef {
  id: string;
  username: string;
}

export interface DiscordGuildRef {
  id: string;
  name?: string;
}

/** The user row of a Discord account, created on first sight; the name is kept current. */
async function ensureUser(em: EntityManager, ref: DiscordUserRef): Promise<IUser> {
  return em.upsert(
    User,
    { discordId: ref.id, username: ref.username.slice(0, 100) },
    { onConflictFields: ['discordId'], onConflictAction: 'merge', onConflictMergeFields: ['username', 'updatedAt'] },
  );
}

/** The guild row of a Discord server, created on first sight. */
async function ensureGuild(em: EntityManager, ref: DiscordGuildRef): Promise<IGuild> {
  return em.upsert(
    Guild,
    { discordId: ref.id, name: ref.name?.slice(0, 100) ?? null },
    { onConflictFields: ['discordId'], onConflictAction: 'merge', onConflictMergeFields: ['name', 'updatedAt'] },
  );
}

/**
 * Who is acting, and where: resolved once per interaction or message by the
 * adapter, then passed to every core function that checks permissions.
 */
export interface Actor {
  user: IUser;
  /** The server the action happens in; undefined in DMs and the terminal. */
  guild?: IGuild;
  /** Holds Manage Server in that guild. */
  isGuildAdmin: boolean;
}

export async function resolveActor(
  em: EntityManager,
  ref: { user: DiscordUserRef; guild?: DiscordGuildRef; isGuildAdmin?: boolean },
): Promise<Actor> {
  const user = await ensureUser(em, ref.user);
  const guild = ref.guild ? await ensureGuild(em, ref.guild) : undefined;
  return { user, guild, isGuildAdmin: Boolean(guild && ref.isGuildAdmin) };
}
