import type { EntityManager } from '@mikro-orm/postgresql';
import type { IPersona, IUser, ProxyTag } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import { createPersona } from './personas.js';
import { tagOf } from './proxy-tags.js';

/** A persona as an export file has it, before our checks. */
export interface ImportedPersona {
  name: string;
  description: string;
  avatarUrl?: string;
  proxyTags: ProxyTag[];
}

const DESCRIPTION_LIMIT = 4_000;

export type PersonaFileFormat = 'sillytavern' | 'tupperbox' | 'pluralkit';

/**
 * Reads the personas out of an export file:
 * - SillyTavern: its persona backup (`personas`, `persona_descriptions`, as
 *   public/scripts/personas.js onBackupPersonas writes it) or its whole
 *   settings.json (the same maps under `power_user`). `personas` maps an
 *   avatar file to the name; `persona_descriptions` the same file to
 *   `{ description, position, … }`. ST avatars are local files: not kept.
 * - Tupperbox (`tb!export`): `tuppers: [{ name, avatar_url, brackets: [prefix, suffix, …], description }]`.
 * - PluralKit (`pk;export`): `members: [{ name, display_name, avatar_url, description, proxy_tags: [{ prefix, suffix }] }]`.
 */
export function parsePersonaFile(text: string): { format: PersonaFileFormat; personas: ImportedPersona[] } {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new UserError(
      'That file is not JSON. Export your personas from SillyTavern (Backup), Tupperbox (tb!export) or PluralKit (pk;export).',
    );
  }
  if (!isObject(data)) throw new UserError('That file holds no personas.');
  const st = isObject(data.power_user) && isObject(data.power_user.personas) ? data.power_user : data;
  if (isObject(st.personas)) return { format: 'sillytavern', personas: fromSillyTavern(st.personas, st.persona_descriptions) };
  if (Array.isArray(data.tuppers)) return { format: 'tupperbox', personas: data.tuppers.filter(isObject).map(fromTupper) };
  if (Array.isArray(data.members)) return { format: 'pluralkit', personas: data.members.filter(isObject).map(fromMember) };
  throw new UserError(
    'I do not know this file. Export your personas from SillyTavern (Backup), Tupperbox (tb!export) or PluralKit (pk;export).',
  );
}

/** Creates the personas of a file; names already taken or refused are reported, not fatal. */
export async function importPersonas(
  em: EntityManager,
  user: IUser,
  personas: ImportedPersona[],
): Promise<{ created: IPersona[]; skipped: { name: string; reason: string }[]; shortened: string[] }> {
  const created: IPersona[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const shortened: string[] = [];
  for (const persona of personas) {
    try {
      // A description longer than the form holds is cut there, and said so.
      const description = persona.description.trim();
      const fits = description.length <= DESCRIPTION_LIMIT;
      created.push(
        await createPersona(em.fork(), user, { ...persona, description: fits ? description : description.slice(0, DESCRIPTION_LIMIT) }),
      );
      if (!fits) shortened.push(persona.name);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      skipped.push({ name: persona.name || '(no name)', reason: error.message });
    }
  }
  return { created, skipped, shortened };
}

function fromSillyTavern(names: Record<string, unknown>, descriptions: unknown): ImportedPersona[] {
  const described = isObject(descriptions) ? descriptions : {};
  return Object.entries(names).map(([avatar, name]) => {
    const entry = described[avatar];
    return { name: text(name), description: isObject(entry) ? text(entry.description) : '', proxyTags: [] };
  });
}

function fromTupper(tupper: Record<string, unknown>): ImportedPersona {
  const brackets = Array.isArray(tupper.brackets) ? tupper.brackets.map(text) : [];
  const proxyTags: ProxyTag[] = [];
  for (let i = 0; i + 1 < brackets.length; i += 2) {
    if (brackets[i] || brackets[i + 1]) proxyTags.push(tagOf(brackets[i], brackets[i + 1]));
  }
  return { name: text(tupper.name), description: text(tupper.description), avatarUrl: url(tupper.avatar_url), proxyTags };
}

function fromMember(member: Record<string, unknown>): ImportedPersona {
  const tags = Array.isArray(member.proxy_tags) ? member.proxy_tags.filter(isObject) : [];
  return {
    name: text(member.display_name) || text(member.name),
    description: text(member.description),
    avatarUrl: url(member.avatar_url) ?? url(member.webhook_avatar_url),
    proxyTags: tags.map((tag) => tagOf(text(tag.prefix), text(tag.suffix))).filter((tag) => tag.prefix || tag.suffix),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function url(value: unknown): string | undefined {
  return typeof value === 'string' && /^https?:\/\//.test(value) ? value : undefined;
}
