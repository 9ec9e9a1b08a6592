import { EmbedBuilder } from 'discord.js';
import { rolesText } from '../../permissions/access.js';
import { ACTION_LABELS, GUILD_ACTIONS, type GuildAccess, type RoleRule } from '../../permissions/guild-settings.js';

export function ruleText(rule: RoleRule): string {
  if (rule === 'everyone') return 'everyone';
  if (!rule.length) return 'server admins only';
  return `${rolesText(rule)} (and server admins)`;
}

export function channelsText(channels: GuildAccess['channels']): string {
  const list = channels.ids.map((id) => `<#${id}>`).join(', ');
  if (channels.mode === 'allow') return channels.ids.length ? `only in ${list}` : 'nowhere (the allow list is empty: add a channel)';
  if (channels.mode === 'deny') return channels.ids.length ? `everywhere except ${list}` : 'in every channel (the deny list is empty)';
  return 'in every channel';
}

/** /settings show: everything a server admin can set, and the operator's DM rules. */
export function settingsEmbed(input: {
  guildName: string;
  access: GuildAccess;
  banned: { name: string }[];
  dms: { allow: boolean; allowNsfw: boolean };
}): EmbedBuilder {
  const { access } = input;
  const roles = GUILD_ACTIONS.map((action) => `**${capitalise(ACTION_LABELS[action])}**: ${ruleText(access.roles[action])}`).join('\n');
  return new EmbedBuilder()
    .setTitle(`DreamChat settings for ${input.guildName}`.slice(0, 256))
    .addFields(
      { name: 'Who may', value: roles },
      { name: 'Where I answer', value: `${channelsText(access.channels)}. Threads follow their channel.`.slice(0, 1024) },
      {
        name: 'Banned characters',
        value: (input.banned.map((c) => c.name).join(', ') || 'none').slice(0, 1024),
      },
      {
        name: 'Content',
        value:
          'NSFW characters and scenes run only in age-restricted channels. ' +
          `Direct messages: ${input.dms.allow ? 'on' : 'off'}${input.dms.allow ? `, NSFW ${input.dms.allowNsfw ? 'allowed' : 'never'}` : ''} (set by the bot’s operator).`,
      },
    )
    .setFooter({ text: 'Server admins (Manage Server) may always do everything.' });
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
