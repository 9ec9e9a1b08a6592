import {
  ActionRowBuilder,
  ApplicationCommandType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  MessageFlags,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
} from 'discord.js';
import { customId, parseCustomId, type Command } from '../src/discord/command.js';
import { editProxiedMessage, ownProxiedMessage } from '../src/discord/proxied-messages.js';
import { UserError } from '../src/errors.js';

const NAME = 'Edit persona message';

/** Message → Apps → "Edit persona message": rewrite what you said as a persona; characters' history follows. */
export default {
  data: new ContextMenuCommandBuilder().setName(NAME).setType(ApplicationCommandType.Message).setContexts(InteractionContextType.Guild),

  async executeOnMessage(interaction, context) {
    await ownProxiedMessage(context, interaction.targetId, interaction.user.id);
    const input = new TextInputBuilder()
      .setCustomId('content')
      .setLabel('Message')
      .setStyle(TextInputStyle.Paragraph)
      .setMaxLength(2000)
      .setRequired(true);
    if (interaction.targetMessage.content) input.setValue(interaction.targetMessage.content.slice(0, 2000));
    await interaction.showModal(
      new ModalBuilder()
        .setCustomId(customId(NAME, 'save', interaction.targetId))
        .setTitle('Edit your persona’s message')
        .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(input)),
    );
  },

  async interact(interaction, context) {
    if (!interaction.isModalSubmit()) return;
    const { args } = parseCustomId(interaction.customId);
    const messageId = args[0] ?? '';
    await ownProxiedMessage(context, messageId, interaction.user.id);
    const content = interaction.fields.getTextInputValue('content').trim();
    if (!content) throw new UserError('A message cannot be empty. To remove it, use Apps → Delete persona message, or react with ❌.');
    await editProxiedMessage(context, interaction.channel, interaction.channelId!, messageId, content);
    await interaction.reply({ content: 'Edited.', flags: MessageFlags.Ephemeral });
  },
} satisfies Command;
