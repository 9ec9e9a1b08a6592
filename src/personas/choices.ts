import type { EntityManager } from '@mikro-orm/postgresql';
import { Persona, PersonaChoice, User, type IPersona, type IUser, type PersonaScope } from '../db/entities/index.js';
import { UserError } from '../errors.js';

/** Where a message is written, for choosing a persona: the channel (a thread, then its parent), the server. */
export interface PersonaPlace {
  /** Most specific first: a thread's id, then its parent channel's. */
  channelIds: string[];
  guildId?: string;
  /** NSFW personas are worn only where NSFW characters may run. */
  nsfwAllowed: boolean;
}

/** What a person wears where they write: the persona (none: plain them), whether to repost everything as it, and the personas their tags call. */
export interface PersonaContext {
  active?: IPersona;
  autoproxy: boolean;
  /** Their personas with proxy tags that may be worn here. */
  tagged: IPersona[];
  /** A persona they chose here that is NSFW, where NSFW may not run: worn nowhere here. */
  refusedNsfw?: IPersona;
}

/** Picks the persona for one scope (null: plain you there); a choice in a narrower scope still wins. */
export async function usePersona(
  em: EntityManager,
  user: IUser,
  persona: IPersona | null,
  scope: PersonaScope,
  placeId = '',
): Promise<void> {
  await upsertChoice(em, user, scope, placeId, { persona: persona?.id ?? null });
}

/**
 * Turns autoproxy on or off in one channel or thread: with it on, everything
 * the person writes there is reposted as `persona` (or the one they wear there).
 */
export async function setAutoproxy(em: EntityManager, user: IUser, channelId: string, on: boolean, persona?: IPersona): Promise<void> {
  if (on && !persona)
    throw new UserError('Choose a persona to speak as: /persona autoproxy on persona:<name>, or wear one here first with /persona use.');
  if (on) await upsertChoice(em, user, 'channel', channelId, { persona: persona!.id, autoproxy: true });
  // Off leaves the persona worn here, if one was: only the reposting stops.
  else await em.nativeUpdate(PersonaChoice, { user: user.id, scope: 'channel', placeId: channelId }, { autoproxy: false });
}

/** The persona a Discord user wears in a place, with their tagged personas; one query each. */
export async function personaContext(em: EntityManager, discordUserId: string, place: PersonaPlace): Promise<PersonaContext> {
  const user = await em.findOne(User, { discordId: discordUserId }, { fields: ['id'] });
  if (!user) return { autoproxy: false, tagged: [] };
  const [choices, tagged] = await Promise.all([
    em.find(
      PersonaChoice,
      {
        user: user.id,
        $or: [
          { scope: 'everywhere' as const },
          ...(place.guildId ? [{ scope: 'server' as const, placeId: place.guildId }] : []),
          ...(place.channelIds.length ? [{ scope: 'channel' as const, placeId: { $in: place.channelIds } }] : []),
        ],
      },
      { populate: ['persona'] },
    ),
    em.find(Persona, { user: user.id, proxyTags: { $ne: [] } }, { orderBy: { createdAt: 'asc' } }),
  ]);
  const rank = (scope: string, placeId: string) =>
    scope === 'channel' ? place.channelIds.indexOf(placeId) : scope === 'server' ? place.channelIds.length : place.channelIds.length + 1;
  // The most specific choice wins; autoproxy is a channel's (or thread's) setting.
  const [decided] = [...choices].sort((a, b) => rank(a.scope, a.placeId) - rank(b.scope, b.placeId));
  const wanted = (decided?.persona ?? undefined) as IPersona | undefined;
  const allowed = (persona: IPersona) => place.nsfwAllowed || !persona.isNsfw;
  return {
    active: wanted && allowed(wanted) ? wanted : undefined,
    autoproxy: Boolean(decided?.scope === 'channel' && decided.autoproxy && wanted && allowed(wanted)),
    tagged: (tagged as IPersona[]).filter(allowed),
    refusedNsfw: wanted && !allowed(wanted) ? wanted : undefined,
  };
}

/** Where a person wears which persona, for /persona show and list. */
export async function choicesOf(
  em: EntityManager,
  user: IUser,
): Promise<{ scope: PersonaScope; placeId: string; persona?: IPersona; autoproxy: boolean }[]> {
  const rows = await em.find(PersonaChoice, { user: user.id }, { populate: ['persona'], orderBy: { scope: 'asc', placeId: 'asc' } });
  return rows.map((row) => ({
    scope: row.scope,
    placeId: row.placeId,
    persona: (row.persona ?? undefined) as IPersona | undefined,
    autoproxy: row.autoproxy,
  }));
}

async function upsertChoice(
  em: EntityManager,
  user: IUser,
  scope: PersonaScope,
  placeId: string,
  set: { persona?: string | null; autoproxy?: boolean },
): Promise<void> {
  const columns = Object.keys(set).map((key) => (key === 'persona' ? 'persona_id' : key));
  const values = Object.values(set);
  await em.execute(
    `insert into persona_choices (user_id, scope, place_id, ${columns.join(', ')}) values (?, ?, ?, ${columns.map(() => '?').join(', ')})
     on conflict (user_id, scope, place_id) do update set ${columns.map((column) => `${column} = excluded.${column}`).join(', ')}, updated_at = now()`,
    [user.id, scope, placeId, ...values],
    'run',
  );
}
