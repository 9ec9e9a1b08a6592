import { ApplicationCommandType, ContextMenuCommandBuilder, InteractionContextType, MessageFlags } from 'discord.js';
import type { Command } from '../src/discord/command.js';
import { deleteProxiedMessage, ownProxiedMessage } from '../src/discord/proxied-messages.js';

/** Message → Apps → "Delete persona message" (a ❌ reaction does the same): it leaves the channel and the characters' history. */
export default {
  data: new ContextMenuCommandBuilder()
    .setName('Delete persona message')
    .setType(ApplicationCommandType.Message)
    .setContexts(InteractionContextType.Guild),

  async executeOnMessage(interaction, context) {
    await ownProxiedMessage(context, interaction.targetId, interaction.user.id);
    await deleteProxiedMessage(context, interaction.channel, interaction.channelId, interaction.targetId);
    await interaction.reply({ content: 'Deleted.', flags: MessageFlags.Ephemeral });
  },
} satisfies Command;
