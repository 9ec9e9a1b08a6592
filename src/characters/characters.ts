import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { Character, type ICharacter } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import type { Actor } from '../core/identity.js';
import { characterInputSchema, characterPatchSchema, describeIssues, type CharacterInput, type CharacterPatch } from './character-input.js';
import { withoutNul } from '../core/text.js';
import { isUuid } from '../core/uuid.js';

/** Characters the actor may chat with: their own, their server's, and public ones. */
export function usableBy(actor: Actor): FilterQuery<ICharacter> {
  const visible: FilterQuery<ICharacter>[] = [{ user: actor.user.id }, { visibility: 'public' }];
  if (actor.guild) visible.push({ visibility: 'guild', guild: actor.guild.id });
  return { $or: visible };
}

/** The creator may change a character; so may a server's admins for that server's characters. */
export function canEdit(actor: Actor, character: ICharacter): boolean {
  if (character.user.id === actor.user.id) return true;
  return actor.isGuildAdmin && character.visibility === 'guild' && actor.guild !== undefined && character.guild?.id === actor.guild.id;
}

export async function createCharacter(em: EntityManager, actor: Actor, input: CharacterInput): Promise<ICharacter> {
  const parsed = characterInputSchema.safeParse(input);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error));
  const data = parsed.data;
  if (data.visibility === 'guild' && !actor.guild) {
    throw new UserError('A server character can only be created in a server. Choose private or public here.');
  }
  await assertNameFree(em, actor, data.name);
  const character = em.create(Character, {
    ...data,
    user: actor.user,
    guild: data.visibility === 'guild' ? actor.guild : null,
    config: { ...data.config },
  });
  await em.flush();
  return character as ICharacter;
}

export async function updateCharacter(em: EntityManager, actor: Actor, character: ICharacter, patch: CharacterPatch): Promise<ICharacter> {
  if (!canEdit(actor, character)) {
    throw new UserError(`Only the creator of ${character.name} (or a server admin, for server characters) can change it.`);
  }
  const parsed = characterPatchSchema.safeParse(patch);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error));
  const data = parsed.data;
  if (data.name && data.name.toLowerCase() !== character.name.toLowerCase()) {
    await assertNameFree(em, { ...actor, user: character.user }, data.name);
  }
  if (data.visibility === 'guild' && !character.guild && !actor.guild) {
    throw new UserError('A character can only be shared with a server from inside that server.');
  }
  em.assign(character, {
    ...data,
    ...(data.config ? { config: { ...character.config, ...data.config } } : {}),
    ...(data.visibility === 'guild' && !character.guild ? { guild: actor.guild } : {}),
  });
  await em.flush();
  return character;
}

export async function deleteCharacter(em: EntityManager, actor: Actor, character: ICharacter): Promise<void> {
  if (!canEdit(actor, character)) {
    throw new UserError(`Only the creator of ${character.name} (or a server admin, for server characters) can delete it.`);
  }
  // Knowledge, memories, participants and bound conversations go with it (ON DELETE CASCADE).
  await em.nativeDelete(Character, { id: character.id });
}

/** Usable characters whose name contains `search`, own ones first, for autocomplete and /character list. */
export async function searchCharacters(
  em: EntityManager,
  actor: Actor,
  search: string,
  options: { limit: number; offset?: number } = { limit: 25 },
): Promise<{ items: ICharacter[]; total: number }> {
  const where: FilterQuery<ICharacter> = search.trim()
    ? { $and: [usableBy(actor), { name: { $ilike: `%${escapeLike(search.trim())}%` } }] }
    : usableBy(actor);
  const [items, total] = await em.findAndCount(Character, where, {
    orderBy: { name: 'asc', createdAt: 'asc' },
    limit: options.limit,
    offset: options.offset ?? 0,
    populate: ['user', 'guild'],
  });
  return { items: items as ICharacter[], total };
}

/**
 * Finds a usable character by id (what autocomplete sends) or by exact name,
 * preferring the actor's own. Throws a UserError naming what was not found.
 */
export async function findUsableCharacter(em: EntityManager, actor: Actor, idOrName: string): Promise<ICharacter> {
  const key = idOrName.trim();
  const byKey: FilterQuery<ICharacter> = isUuid(key) ? { id: key } : { name: { $ilike: escapeLike(key) } };
  const found = await em.find(Character, { $and: [usableBy(actor), byKey] }, { populate: ['user', 'guild'], limit: 10 });
  const own = found.find((character) => character.user.id === actor.user.id);
  const character = own ?? found[0];
  if (!character) {
    // The name is echoed, clipped: a 6000-character option would make the answer too long for Discord.
    const shown = key.length > 100 ? `${key.slice(0, 99)}…` : key;
    throw new UserError(`No character called “${shown}” that you can use here. Try /character list.`);
  }
  return character as ICharacter;
}

async function assertNameFree(em: EntityManager, actor: Actor, name: string): Promise<void> {
  const taken = await em.count(Character, { user: actor.user.id, name: { $ilike: escapeLike(name) } });
  if (taken > 0) throw new UserError(`You already have a character called “${name}”. Pick another name.`);
}

function escapeLike(value: string): string {
  return withoutNul(value).replace(/[\\%_]/g, (char) => `\\${char}`);
}
