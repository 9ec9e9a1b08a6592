import type { AutocompleteInteraction } from 'discord.js';
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
