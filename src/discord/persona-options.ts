import type { AutocompleteInteraction, Interaction } from 'discord.js';
import type { Place } from '../permissions/access.js';
import { nsfwAllowed } from '../permissions/content.js';
import { personaContext } from '../personas/choices.js';
import { searchPersonas } from '../personas/personas.js';
import { actorOf } from './actor.js';
import type { CommandContext } from './command.js';

/** What `/persona use persona:` takes for "plain me". */
export const NO_PERSONA = 'none';

/** Autocomplete for a `persona` option: the person's own personas whose name contains what they typed (plus “none” for /persona use). */
export async function autocompletePersonas(interaction: AutocompleteInteraction, context: CommandContext): Promise<void> {
  const em = context.database.orm.em.fork();
  const { user } = await actorOf(em, interaction);
  const typed = String(interaction.options.getFocused());
  const offerNone = interaction.options.getSubcommand(false) === 'use' && NO_PERSONA.startsWith(typed.trim().toLowerCase());
  const { items } = await searchPersonas(em, user, typed, { limit: offerNone ? 24 : 25 });
  await interaction.respond([
    ...(offerNone ? [{ name: 'none (be plain you)', value: NO_PERSONA }] : []),
    ...items.map((persona) => ({ name: persona.name.slice(0, 100), value: persona.id })),
  ]);
}

/**
 * What a person is called where a character greets them: the persona they wear there (a thread's own choice first,
 * then its parent channel's), else their Discord display name. It is {{user}} in the greeting, as in the
 * replies to their messages.
 */
export async function nameWornIn(
  context: CommandContext,
  interaction: Interaction,
  channel: { id: string; parentId?: string },
  place: Place,
): Promise<string> {
  const em = context.database.orm.em.fork();
  const worn = await personaContext(em, interaction.user.id, {
    channelIds: [channel.id, ...(channel.parentId ? [channel.parentId] : [])],
    guildId: interaction.guildId ?? undefined,
    nsfwAllowed: nsfwAllowed(place, { allowNsfwDms: context.config.dms.allowNsfw }),
  });
  return worn.active?.name ?? interaction.user.displayName;
}
