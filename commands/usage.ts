import { InteractionContextType, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { actorOf } from '../src/discord/actor.js';
import type { Command } from '../src/discord/command.js';
import { limitsText, usageEmbeds } from '../src/discord/render/usage.js';
import { UserError } from '../src/errors.js';
import { serverLimits, type UsageLimits } from '../src/usage/budget.js';
import { serverUsage, userUsage } from '../src/usage/report.js';
import { loadGuildSettings, saveServerLimits } from '../src/usage/server-limits.js';

/** The options of /usage limits and the limit each sets. */
const LIMIT_OPTIONS = {
  user_messages_per_minute: 'userMessagesPerMinute',
  user_tokens_per_day: 'userTokensPerDay',
  server_messages_per_minute: 'serverMessagesPerMinute',
  server_tokens_per_day: 'serverTokensPerDay',
} as const satisfies Record<string, keyof UsageLimits>;

export default {
  data: new SlashCommandBuilder()
    .setName('usage')
    .setDescription('Replies, tokens and estimated cost, and the limits on them.')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .addSubcommand((sub) => sub.setName('show').setDescription('What you used today and this month (admins: the server too).'))
    .addSubcommand((sub) => {
      sub.setName('limits').setDescription('See this server’s limits; admins (Manage Server) may lower them.');
      for (const name of Object.keys(LIMIT_OPTIONS)) {
        sub.addIntegerOption((o) =>
          o
            .setName(name)
            .setDescription(`${name.replaceAll('_', ' ')} (0 = the operator’s limit)`)
            .setMinValue(0),
        );
      }
      return sub;
    }),

  async execute(interaction, context) {
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    if (interaction.options.getSubcommand() === 'show') {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const admin = Boolean(actor.guild && actor.isGuildAdmin);
      const [mine, limits, server] = await Promise.all([
        userUsage(em, actor.user.id),
        context.usage.state(actor, { server: admin }),
        admin ? serverUsage(em.fork(), actor.guild!.id) : undefined,
      ]);
      await interaction.editReply({ embeds: usageEmbeds({ mine, limits, server, now: Date.now() }) });
      return;
    }
    if (!actor.guild) throw new UserError('Server limits are set in a server; in DMs only the operator’s limits apply.');
    const changes: Partial<UsageLimits> = {};
    for (const [option, name] of Object.entries(LIMIT_OPTIONS)) {
      const value = interaction.options.getInteger(option);
      if (value !== null) changes[name] = value;
    }
    if (Object.keys(changes).length) {
      if (!actor.isGuildAdmin) throw new UserError('Only server admins (Manage Server) can change this server’s limits.');
      await saveServerLimits(em, actor.guild, changes);
      context.usage.forgetServer(actor.guild.discordId);
    }
    const own = serverLimits(await loadGuildSettings(em, actor.guild.discordId));
    const effective = await context.usage.limitsFor({ ...actor, guild: { ...actor.guild, settings: { usage: own } } });
    await interaction.reply({ content: limitsText(effective, own), flags: MessageFlags.Ephemeral });
  },
} satisfies Command;
