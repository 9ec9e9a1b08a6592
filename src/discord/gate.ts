import { MessageFlags, type BaseInteraction } from 'discord.js';
import { channelAllowed, CHANNEL_REFUSAL, DM_REFUSAL } from '../permissions/access.js';
import { loadAccess } from '../permissions/guild-settings.js';
import { placeOf } from './actor.js';
import type { CommandContext } from './command.js';

/**
 * Commands that work everywhere: /settings (an admin must be able to undo a
 * channel rule from anywhere), /help, and /memory (forgetting and deleting
 * one's data are never blocked).
 */
const EVERYWHERE = new Set(['settings', 'help', 'memory']);

/** Why the bot does not take this command here (a DM when the operator turned DMs off, a channel the server closed), or null. */
async function interactionRefusal(interaction: BaseInteraction, command: string, context: CommandContext): Promise<string | null> {
  if (EVERYWHERE.has(command)) return null;
  if (!interaction.guildId) return context.config.dms.allow ? null : DM_REFUSAL;
  if (!interaction.channelId) return null;
  const access = await loadAccess(context.database.orm.em.fork(), interaction.guildId);
  return channelAllowed(access, placeOf(interaction.channel, interaction.channelId, interaction.guildId)) ? null : CHANNEL_REFUSAL;
}

/** Answers a refused interaction plainly (autocomplete with no choices); returns whether it was refused. */
export async function refuseIfClosed(interaction: BaseInteraction, command: string, context: CommandContext): Promise<boolean> {
  const refusal = await interactionRefusal(interaction, command, context);
  if (!refusal) return false;
  if (interaction.isAutocomplete()) await interaction.respond([]);
  else if (interaction.isRepliable()) await interaction.reply({ content: refusal, flags: MessageFlags.Ephemeral });
  return true;
}
