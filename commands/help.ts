import { EmbedBuilder, InteractionContextType, MessageFlags, SlashCommandBuilder } from 'discord.js';
import type { Command } from '../src/discord/command.js';

const GUIDE = [
  'DreamChat lets you talk with AI characters right here in Discord.',
  '',
  'Characters answer in their own name and face, remember what matters, and can learn from files you give them.',
  '',
  '`/character create` makes a character; `/chat start` brings it here; `/scene start` opens a thread for several.',
  '`/knowledge add` teaches it a file, `/lore add` gives it world info, `/memory` shows and controls what it remembers',
  '(📚 Sources under a reply shows what it recalled). `/usage show` tells you what you have used.',
  'Server admins: `/settings` chooses who may create characters, start scenes or change knowledge, where the bot answers, and bans characters.',
  'Type `/` and pick a DreamChat command to see what it can do; every option explains itself.',
].join('\n');

export default {
  data: new SlashCommandBuilder()
    .setName('help')
    .setDescription('What DreamChat is and how to start.')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM),
  async execute(interaction, context) {
    const embed = new EmbedBuilder()
      .setTitle('DreamChat')
      .setDescription(GUIDE)
      .setFooter({ text: `Storage: ${context.database.embedded ? 'embedded PostgreSQL' : 'PostgreSQL'}` });
    await interaction.reply({ embeds: [embed], flags: MessageFlags.Ephemeral });
  },
} satisfies Command;
