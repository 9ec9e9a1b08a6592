import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { describeIssues } from '../characters/character-input.js';
import { withoutNul } from '../core/text.js';
import { isUuid } from '../core/uuid.js';
import { Persona, type IPersona, type IUser, type ProxyTag } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import { personaInputSchema, personaPatchSchema, type PersonaInput, type PersonaPatch } from './persona-input.js';
import { writeProxyTag } from './proxy-tags.js';

/** A person may keep this many personas (PluralKit allows 1000 members; Tupperbox 5000 with premium). */
const MAX_PERSONAS = 500;

export async function createPersona(em: EntityManager, user: IUser, input: PersonaInput): Promise<IPersona> {
  const data = parse(personaInputSchema, input);
  if ((await em.count(Persona, { user: user.id })) >= MAX_PERSONAS) {
    throw new UserError(`You have ${MAX_PERSONAS} personas already. Delete one with /persona delete first.`);
  }
  await assertNameFree(em, user, data.name);
  await assertTagsFree(em, user, data.proxyTags ?? []);
  const persona = em.create(Persona, { ...data, proxyTags: data.proxyTags ?? [], isNsfw: data.isNsfw ?? false, user });
  await em.flush();
  return persona as IPersona;
}

export async function updatePersona(em: EntityManager, user: IUser, persona: IPersona, patch: PersonaPatch): Promise<IPersona> {
  assertOwn(user, persona);
  const data = parse(personaPatchSchema, patch);
  if (data.name && data.name.toLowerCase() !== persona.name.toLowerCase()) await assertNameFree(em, user, data.name);
  if (data.proxyTags) await assertTagsFree(em, user, data.proxyTags, persona.id);
  em.assign(persona, Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)));
  await em.flush();
  return persona;
}

/** Deletes a persona; the places it was worn go back to plain you (ON DELETE CASCADE). Messages said as it keep its name. */
export async function deletePersona(em: EntityManager, user: IUser, persona: IPersona): Promise<void> {
  assertOwn(user, persona);
  await em.nativeDelete(Persona, { id: persona.id });
}

/** The person's personas whose name contains `search`, by name. */
export async function searchPersonas(
  em: EntityManager,
  user: IUser,
  search: string,
  options: { limit: number; offset?: number } = { limit: 25 },
): Promise<{ items: IPersona[]; total: number }> {
  const typed = search.trim();
  const [items, total] = await em.findAndCount(
    Persona,
    typed ? { user: user.id, name: { $ilike: `%${escapeLike(typed)}%` } } : { user: user.id },
    { orderBy: { name: 'asc', createdAt: 'asc' }, limit: options.limit, offset: options.offset ?? 0 },
  );
  return { items: items as IPersona[], total };
}

/** One of the person's personas by id (what autocomplete sends) or by name. */
export async function findPersona(em: EntityManager, user: IUser, idOrName: string): Promise<IPersona> {
  const key = idOrName.trim();
  const persona = await em.findOne(
    Persona,
    isUuid(key) ? { id: key, user: user.id } : { user: user.id, name: { $ilike: escapeLike(key) } },
  );
  if (!persona) {
    const shown = key.length > 80 ? `${key.slice(0, 79)}…` : key;
    throw new UserError(`You have no persona called “${shown}”. Try /persona list.`);
  }
  return persona as IPersona;
}

function assertOwn(user: IUser, persona: IPersona): void {
  if (persona.user.id !== user.id) throw new UserError('That persona is someone else’s.');
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error));
  return parsed.data;
}

async function assertNameFree(em: EntityManager, user: IUser, name: string): Promise<void> {
  if (await em.count(Persona, { user: user.id, name: { $ilike: escapeLike(name) } })) {
    throw new UserError(`You already have a persona called “${name}”. Pick another name.`);
  }
}

/** Two of one person's personas may not answer to the same tag: which of them would speak? */
async function assertTagsFree(em: EntityManager, user: IUser, tags: ProxyTag[], except?: string): Promise<void> {
  if (!tags.length) return;
  const others = await em.find(Persona, { user: user.id, ...(except ? { id: { $ne: except } } : {}) }, { fields: ['name', 'proxyTags'] });
  const key = (tag: ProxyTag) => `${tag.prefix?.toLowerCase() ?? ''}\u0000${tag.suffix?.toLowerCase() ?? ''}`;
  for (const other of others) {
    const theirs = new Set(other.proxyTags.map(key));
    const clash = tags.find((tag) => theirs.has(key(tag)));
    if (clash) throw new UserError(`Your persona “${other.name}” already uses the proxy tag ${writeProxyTag(clash)}.`);
  }
}

function escapeLike(value: string): string {
  return withoutNul(value).replace(/[\\%_]/g, (char) => `\\${char}`);
}
