import {
  ChannelType,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type ChatInputCommandInteraction,
  type SlashCommandStringOption,
} from 'discord.js';
import { actorOf, type MemberActor } from '../src/discord/actor.js';
import type { Command, CommandContext } from '../src/discord/command.js';
import { channelsText, ruleText, settingsEmbed } from '../src/discord/render/settings.js';
import { UserError } from '../src/errors.js';
import {
  assertServerAdmin,
  banCharacter,
  bannedCharacters,
  findBannable,
  searchBannable,
  unbanCharacter,
} from '../src/permissions/bans.js';
import {
  ACTION_LABELS,
  CHANNEL_MODES,
  DEFAULT_ROLE_RULES,
  GUILD_ACTIONS,
  loadAccess,
  saveAccess,
  type ChannelMode,
  type GuildAction,
} from '../src/permissions/guild-settings.js';

const actionOption = (o: SlashCommandStringOption) =>
  o
    .setName('action')
    .setDescription('What to allow')
    .setRequired(true)
    .addChoices(...GUILD_ACTIONS.map((value) => ({ name: ACTION_LABELS[value], value })));

const MODE_NAMES: Record<ChannelMode, string> = {
  all: 'every channel',
  allow: 'only the channels on the list',
  deny: 'every channel except those on the list',
};

const PARENT_CHANNELS = [ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.GuildVoice, ChannelType.GuildForum] as const;

export default {
  data: new SlashCommandBuilder()
    .setName('settings')
    .setDescription('This server’s DreamChat settings: who may do what, where the bot answers, banned characters.')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((sub) => sub.setName('show').setDescription('Show every setting of this server.'))
    .addSubcommandGroup((group) =>
      group
        .setName('roles')
        .setDescription('Which roles may create characters, start scenes, change knowledge, add providers.')
        .addSubcommand((sub) =>
          sub
            .setName('allow')
            .setDescription('Let a role do this (once a role is listed, only listed roles may).')
            .addStringOption(actionOption)
            .addRoleOption((o) => o.setName('role').setDescription('The role').setRequired(true)),
        )
        .addSubcommand((sub) =>
          sub
            .setName('remove')
            .setDescription('Take a role off the list (an empty list: server admins only).')
            .addStringOption(actionOption)
            .addRoleOption((o) => o.setName('role').setDescription('The role').setRequired(true)),
        )
        .addSubcommand((sub) => sub.setName('everyone').setDescription('Let everyone do this again.').addStringOption(actionOption))
        .addSubcommand((sub) => sub.setName('reset').setDescription('Back to the default for this.').addStringOption(actionOption)),
    )
    .addSubcommandGroup((group) =>
      group
        .setName('channels')
        .setDescription('Where the bot answers (threads follow their channel).')
        .addSubcommand((sub) =>
          sub
            .setName('mode')
            .setDescription('Every channel, only listed ones, or all but listed ones.')
            .addStringOption((o) =>
              o
                .setName('mode')
                .setDescription('Where the bot answers')
                .setRequired(true)
                .addChoices(...CHANNEL_MODES.map((value) => ({ name: MODE_NAMES[value], value }))),
            ),
        )
        .addSubcommand((sub) =>
          sub
            .setName('add')
            .setDescription('Put a channel on the list.')
            .addChannelOption((o) =>
              o
                .setName('channel')
                .setDescription('The channel')
                .setRequired(true)
                .addChannelTypes(...PARENT_CHANNELS),
            ),
        )
        .addSubcommand((sub) =>
          sub
            .setName('remove')
            .setDescription('Take a channel off the list.')
            .addChannelOption((o) =>
              o
                .setName('channel')
                .setDescription('The channel')
                .setRequired(true)
                .addChannelTypes(...PARENT_CHANNELS),
            ),
        ),
    )
    .addSubcommand((sub) =>
      sub
        .setName('ban-character')
        .setDescription('Ban a character from this server: it cannot be started, join scenes or answer here.')
        .addStringOption((o) => o.setName('character').setDescription('Which one').setRequired(true).setAutocomplete(true)),
    )
    .addSubcommand((sub) =>
      sub
        .setName('unban-character')
        .setDescription('Lift a character’s ban in this server.')
        .addStringOption((o) => o.setName('character').setDescription('Which one').setRequired(true).setAutocomplete(true)),
    ),

  async execute(interaction, context) {
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    // Discord's default permission can be changed by a server's admins, or bypassed: check for real.
    assertServerAdmin(actor);
    const group = interaction.options.getSubcommandGroup(false);
    const sub = interaction.options.getSubcommand();
    let content: string;
    if (group === 'roles') content = await changeRoles(interaction, context, actor, sub);
    else if (group === 'channels') content = await changeChannels(interaction, context, actor, sub);
    else if (sub === 'ban-character') {
      const character = await findBannable(em, actor, interaction.options.getString('character', true));
      await banCharacter(em, actor, character);
      content = `**${character.name}** is banned from this server: it cannot be started, join scenes or answer here.`;
    } else if (sub === 'unban-character') {
      const character = await unbanCharacter(em, actor, interaction.options.getString('character', true));
      content = `**${character.name}** is no longer banned here.`;
    } else {
      const access = await loadAccess(em, actor.guild.discordId);
      const embed = settingsEmbed({
        guildName: interaction.guild?.name ?? actor.guild.name ?? 'this server',
        access,
        banned: await bannedCharacters(em, access),
        dms: context.config.dms,
      });
      await interaction.reply({ embeds: [embed], flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
      return;
    }
    await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  },

  async autocomplete(interaction, context) {
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    if (!actor.isGuildAdmin || !actor.guild) return void (await interaction.respond([]));
    const typed = String(interaction.options.getFocused()).toLowerCase();
    const characters =
      interaction.options.getSubcommand() === 'unban-character'
        ? (await bannedCharacters(em, await loadAccess(em, actor.guild.discordId))).filter((c) => c.name.toLowerCase().includes(typed))
        : await searchBannable(em, actor, typed);
    await interaction.respond(characters.slice(0, 25).map((c) => ({ name: c.name.slice(0, 100), value: c.id })));
  },
} satisfies Command;

async function changeRoles(
  interaction: ChatInputCommandInteraction,
  context: CommandContext,
  actor: MemberActor,
  sub: string,
): Promise<string> {
  assertServerAdmin(actor);
  const em = context.database.orm.em.fork();
  const action = interaction.options.getString('action', true) as GuildAction;
  if (!GUILD_ACTIONS.includes(action)) throw new UserError('Pick one of the listed actions.');
  const access = await loadAccess(em, actor.guild.discordId);
  const current = access.roles[action];
  const listed = current === 'everyone' ? [] : current;
  let rule = current;
  if (sub === 'everyone') rule = 'everyone';
  else if (sub === 'reset') rule = DEFAULT_ROLE_RULES[action];
  else {
    const role = interaction.options.getRole('role', true);
    if (sub === 'allow') rule = role.id === actor.guild.discordId ? 'everyone' : [...new Set([...listed, role.id])];
    else {
      if (!listed.includes(role.id))
        throw new UserError(`<@&${role.id}> is not on the list for “${ACTION_LABELS[action]}” (now: ${ruleText(current)}).`);
      rule = listed.filter((id) => id !== role.id);
    }
  }
  await saveAccess(em, actor.guild, 'roles', { ...access.roles, [action]: rule });
  return `Who may ${ACTION_LABELS[action]}: ${ruleText(rule)}.`;
}

async function changeChannels(
  interaction: ChatInputCommandInteraction,
  context: CommandContext,
  actor: MemberActor,
  sub: string,
): Promise<string> {
  assertServerAdmin(actor);
  const em = context.database.orm.em.fork();
  const { channels } = await loadAccess(em, actor.guild.discordId);
  let next = channels;
  if (sub === 'mode') next = { ...channels, mode: interaction.options.getString('mode', true) as ChannelMode };
  else {
    const channel = interaction.options.getChannel('channel', true);
    next = {
      ...channels,
      ids: sub === 'add' ? [...new Set([...channels.ids, channel.id])] : channels.ids.filter((id) => id !== channel.id),
    };
  }
  const saved = (await saveAccess(em, actor.guild, 'channels', next)).channels;
  const hint = saved.mode === 'all' && saved.ids.length ? ' (the list applies once you set /settings channels mode)' : '';
  return `I answer ${channelsText(saved)}${hint}. Threads follow their channel; /settings works everywhere.`;
}
