import type { AutocompleteInteraction } from 'discord.js';
import { searchCharacters } from '../characters/characters.js';
import { actorOf } from './actor.js';
import type { CommandContext } from './command.js';

/**
 * Autocomplete for any `character` option: the characters the user may use
 * here whose name contains what they typed. The value sent back is the id.
 */
export async function autocompleteCharacters(interaction: AutocompleteInteraction, context: CommandContext): Promise<void> {
  const em = context.database.orm.em.fork();
  const actor = await actorOf(em, interaction);
  const typed = String(interaction.options.getFocused());
  const { items } = await searchCharacters(em, actor, typed, { limit: 25 });
  await interaction.respond(
    items.map((character) => ({
      name: `${character.name}${character.user.id === actor.user.id ? '' : ` (by ${character.user.username ?? 'someone'})`}`.slice(0, 100),
      value: character.id,
    })),
  );
}
