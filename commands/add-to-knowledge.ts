import {
  ActionRowBuilder,
  ApplicationCommandType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  MessageFlags,
  StringSelectMenuBuilder,
} from 'discord.js';
import { canEdit, findUsableCharacter, searchCharacters } from '../src/characters/characters.js';
import { actorOf } from '../src/discord/actor.js';
import { customId, parseCustomId, type Command } from '../src/discord/command.js';
import { UserError } from '../src/errors.js';
import { addKnowledge } from '../src/knowledge/knowledge.js';
import { assertCan } from '../src/permissions/access.js';
import { accessFor } from '../src/permissions/guild-settings.js';

/** Message → Apps → "Add to character knowledge": every attachment of the message, for a character you pick. */
export default {
  data: new ContextMenuCommandBuilder()
    .setName('Add to character knowledge')
    .setType(ApplicationCommandType.Message)
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM),

  async executeOnMessage(interaction, context) {
    const attachments = [...interaction.targetMessage.attachments.values()];
    if (!attachments.length) throw new UserError('That message has no attached files.');
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    assertCan(actor, 'uploadKnowledge', await accessFor(em, actor));
    const editable = (await searchCharacters(em, actor, '', { limit: 100 })).items.filter((c) => canEdit(actor, c)).slice(0, 25);
    if (!editable.length) throw new UserError('You have no character whose knowledge you may change. Create one with /character create.');
    const menu = new StringSelectMenuBuilder()
      .setCustomId(customId('Add to character knowledge', 'pick', interaction.channelId, interaction.targetId))
      .setPlaceholder('Which character should learn these files?')
      .addOptions(editable.map((character) => ({ label: character.name.slice(0, 100), value: character.id })));
    await interaction.reply({
      content: `${attachments.length} file(s): ${attachments
        .map((a) => a.name)
        .join(', ')
        .slice(0, 1500)}`,
      components: [new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(menu)],
      flags: MessageFlags.Ephemeral,
    });
  },

  async interact(interaction, context) {
    if (!interaction.isStringSelectMenu()) return;
    const { args } = parseCustomId(interaction.customId);
    const [, messageId = ''] = args;
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    assertCan(actor, 'uploadKnowledge', await accessFor(em, actor));
    const character = await findUsableCharacter(em, actor, interaction.values[0] ?? '');
    const message = await interaction.channel?.messages.fetch(messageId).catch(() => undefined);
    if (!message) throw new UserError('That message is gone.');
    const lines: string[] = [];
    for (const file of message.attachments.values()) {
      try {
        await addKnowledge(em, context.queue, actor, character, {
          url: file.url,
          name: file.name,
          sourceName: file.name,
          sourceType: 'file',
          size: file.size,
          mimeType: file.contentType ?? undefined,
        });
        lines.push(`⏳ ${file.name}: queued`);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        lines.push(`❌ ${file.name}: ${error.message}`);
      }
    }
    await interaction.update({
      content: `**${character.name}** will learn:\n${lines.join('\n')}\nSee /knowledge list for progress.`,
      components: [],
    });
  },
} satisfies Command;
