import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { usableBy } from '../characters/characters.js';
import type { Actor } from '../core/identity.js';
import { Character, Conversation, ConversationParticipant, type ICharacter } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import { loadAccess, saveAccess, type GuildAccess } from './guild-settings.js';
import { isUuid } from '../core/uuid.js';

/** Only server admins (Manage Server) change a server's settings, whatever Discord's command permissions say. */
export function assertServerAdmin(actor: Actor): asserts actor is Actor & { guild: NonNullable<Actor['guild']> } {
  if (!actor.guild) throw new UserError('Server settings are changed from inside the server.');
  if (!actor.isGuildAdmin) throw new UserError('Only server admins (Manage Server) can change this server’s settings.');
}

/**
 * Characters an admin may ban here: those they can use in this server, and
 * any character bound or in a scene in this server (someone's private one
 * included: its name shows in the channel anyway). Nothing else is revealed.
 */
async function charactersActiveIn(em: EntityManager, guildId: string): Promise<string[]> {
  const bound = await em.find(Conversation, { guild: guildId, character: { $ne: null } }, { fields: ['character'] });
  const cast = await em.find(ConversationParticipant, { conversation: { guild: guildId } }, { fields: ['character'] });
  return [
    ...new Set([...bound, ...cast].map((row) => (row.character as { id: string } | null)?.id).filter((id): id is string => Boolean(id))),
  ];
}

/** Characters an admin may ban here whose name contains `search` (or with this id), for autocomplete and the command. */
export async function searchBannable(em: EntityManager, actor: Actor, search: string, limit = 25): Promise<ICharacter[]> {
  assertServerAdmin(actor);
  const active = await charactersActiveIn(em, actor.guild.id);
  const key = search.trim();
  const byKey: FilterQuery<ICharacter> = isUuid(key)
    ? { id: key }
    : key
      ? { name: { $ilike: `%${key.replace(/[\\%_]/g, (c) => `\\${c}`)}%` } }
      : {};
  const where = { $and: [{ $or: [usableBy(actor), { id: { $in: active } }] }, byKey] } as FilterQuery<ICharacter>;
  return (await em.find(Character, where, { orderBy: { name: 'asc' }, limit, populate: ['user'] })) as ICharacter[];
}

/** The one character `idOrName` names among those bannable (an exact name, or the id autocomplete sends). */
export async function findBannable(em: EntityManager, actor: Actor, idOrName: string): Promise<ICharacter> {
  const key = idOrName.trim();
  const found = (await searchBannable(em, actor, key, 50)).filter((c) => c.id === key || c.name.toLowerCase() === key.toLowerCase());
  if (!found[0]) throw new UserError(`No character called “${key}” is known in this server.`);
  return found[0];
}

export async function banCharacter(em: EntityManager, actor: Actor, character: ICharacter): Promise<GuildAccess> {
  assertServerAdmin(actor);
  const access = await loadAccess(em, actor.guild.discordId);
  if (access.bannedCharacters.includes(character.id)) throw new UserError(`${character.name} is already banned here.`);
  return saveAccess(em, actor.guild, 'bannedCharacters', [...access.bannedCharacters, character.id]);
}

export async function unbanCharacter(
  em: EntityManager,
  actor: Actor,
  idOrName: string,
): Promise<ICharacter | { id: string; name: string }> {
  assertServerAdmin(actor);
  const access = await loadAccess(em, actor.guild.discordId);
  const banned = await bannedCharacters(em, access);
  const key = idOrName.trim().toLowerCase();
  const target = banned.find((c) => c.id === idOrName.trim() || c.name.toLowerCase() === key);
  if (!target) throw new UserError(`${idOrName} is not banned here.`);
  await saveAccess(
    em,
    actor.guild,
    'bannedCharacters',
    access.bannedCharacters.filter((id) => id !== target.id),
  );
  return target;
}

/** The banned characters with their names (a deleted one shows its id). */
export async function bannedCharacters(em: EntityManager, access: GuildAccess): Promise<{ id: string; name: string }[]> {
  if (!access.bannedCharacters.length) return [];
  const rows = (await em.find(Character, { id: { $in: access.bannedCharacters } }, { fields: ['name'] })) as ICharacter[];
  const names = new Map(rows.map((row) => [row.id, row.name]));
  return access.bannedCharacters.map((id) => ({ id, name: names.get(id) ?? `(deleted character ${id.slice(0, 8)})` }));
}
