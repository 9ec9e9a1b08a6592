import { ChannelType, OverwriteType, PermissionFlagsBits } from 'discord-api-types/v10';
import { missingAccess, missingPermissions } from './errors.js';
import type { FakeStore, StoredChannel } from './store.js';

const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((all, bit) => all | bit, 0n);

/** What a bot typically gets when invited with a sensible permission set (no Administrator). */
export const DEFAULT_BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.CreatePrivateThreads |
  PermissionFlagsBits.ManageThreads |
  PermissionFlagsBits.ManageWebhooks |
  PermissionFlagsBits.ManageMessages |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis |
  PermissionFlagsBits.UseApplicationCommands;

/** What @everyone may do in a fresh server. */
export const DEFAULT_EVERYONE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.CreatePrivateThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis |
  PermissionFlagsBits.UseApplicationCommands;

/** What anyone may do in a DM with the bot (Discord's app_permissions there). */
const DM_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis |
  PermissionFlagsBits.UseApplicationCommands;

/** A member's permissions in a guild (or in a channel, with its overwrites), as Discord computes them. */
export function computePermissions(store: FakeStore, guildId: string, userId: string, channel?: StoredChannel): bigint {
  const guild = store.guild(guildId);
  if (guild.ownerId === userId) return ALL_PERMISSIONS;
  const member = guild.members.get(userId);
  const everyone = guild.roles.find((role) => role.id === guild.id);
  let permissions = BigInt(everyone?.permissions ?? '0');
  for (const roleId of member?.roles ?? []) {
    const role = guild.roles.find((candidate) => candidate.id === roleId);
    if (role) permissions |= BigInt(role.permissions);
  }
  if (permissions & PermissionFlagsBits.Administrator) return ALL_PERMISSIONS;
  if (!channel) return permissions;
  const overwrites = store.permissionChannel(channel).permissionOverwrites;
  const everyoneOverwrite = overwrites.find((overwrite) => overwrite.id === guild.id);
  if (everyoneOverwrite) permissions = (permissions & ~BigInt(everyoneOverwrite.deny)) | BigInt(everyoneOverwrite.allow);
  let allow = 0n;
  let deny = 0n;
  for (const overwrite of overwrites) {
    if (overwrite.type === OverwriteType.Role && overwrite.id !== guild.id && member?.roles.includes(overwrite.id)) {
      allow |= BigInt(overwrite.allow);
      deny |= BigInt(overwrite.deny);
    }
  }
  permissions = (permissions & ~deny) | allow;
  const own = overwrites.find((overwrite) => overwrite.type === OverwriteType.Member && overwrite.id === userId);
  if (own) permissions = (permissions & ~BigInt(own.deny)) | BigInt(own.allow);
  if (!(permissions & PermissionFlagsBits.ViewChannel)) return 0n;
  return permissions;
}

/** Permissions of a user in a channel; DMs get Discord's fixed DM set. */
export function channelPermissions(store: FakeStore, channel: StoredChannel, userId: string): bigint {
  if (channel.type === ChannelType.DM || !channel.guildId) return DM_PERMISSIONS;
  return computePermissions(store, channel.guildId, userId, channel);
}

/** Throws Discord's 403s unless the bot has every one of `required` in the channel. */
export function requireBotPermissions(store: FakeStore, channel: StoredChannel, required: bigint): void {
  if (channel.type === ChannelType.DM) return;
  const permissions = channelPermissions(store, channel, store.botUser.id);
  if (!(permissions & PermissionFlagsBits.ViewChannel)) throw missingAccess();
  if ((permissions & required) !== required) throw missingPermissions();
}
