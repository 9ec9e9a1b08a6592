import type { EntityManager } from '@mikro-orm/postgresql';
import {
  ChannelType,
  PermissionFlagsBits,
  type APIInteractionGuildMember,
  type BaseInteraction,
  type Channel,
  type GuildMember,
  type Message,
} from 'discord.js';
import type { ChannelRef } from '../chat/conversations.js';
import { resolveActor, type Actor } from '../core/identity.js';
import type { Member, Place } from '../permissions/access.js';

/** An actor with the roles they hold in the server, for the server's permission rules. */
export type MemberActor = Actor & Member;

/** The acting user and server of an interaction, as core rows. Manage Server makes a server admin. */
export async function actorOf(em: EntityManager, interaction: BaseInteraction): Promise<MemberActor> {
  const actor = await resolveActor(em, {
    user: { id: interaction.user.id, username: interaction.user.displayName ?? interaction.user.username },
    guild: interaction.guildId ? { id: interaction.guildId, name: interaction.guild?.name } : undefined,
    isGuildAdmin: interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false,
  });
  return { ...actor, roleIds: interaction.guildId ? roleIdsOf(interaction.member, interaction.guildId) : [] };
}

/** The role ids of a member (a cached GuildMember, or the raw member of an interaction), @everyone included. */
function roleIdsOf(member: GuildMember | APIInteractionGuildMember | null | undefined, guildId: string): string[] {
  if (!member) return [guildId];
  const ids = Array.isArray(member.roles) ? member.roles : [...(member as GuildMember).roles.cache.keys()];
  return [...new Set([guildId, ...ids])];
}

/** Where an interaction or message happens, for channel and content rules: a thread takes its parent's id and age restriction. */
export function placeOf(channel: Channel | null, channelId: string, guildId: string | null): Place {
  if (!guildId) return { kind: 'dm', channelId, nsfw: false };
  if (!channel) return { kind: 'channel', channelId, nsfw: false };
  if (channel.isDMBased()) return { kind: 'dm', channelId: channel.id, nsfw: false };
  if (channel.isThread()) {
    const parent = channel.parent;
    return {
      kind: 'thread',
      channelId: channel.id,
      parentId: channel.parentId ?? undefined,
      nsfw: Boolean(parent && 'nsfw' in parent && parent.nsfw),
    };
  }
  return { kind: 'channel', channelId: channel.id, nsfw: 'nsfw' in channel && Boolean(channel.nsfw) };
}

/** Where a conversation lives: a channel, a thread (with its parent for the webhook) or a DM. */
export function channelRefOf(channel: Channel | null, channelId: string): ChannelRef & { parentId?: string } {
  if (!channel) return { id: channelId, kind: 'channel' };
  if (channel.isDMBased()) return { id: channel.id, kind: 'dm' };
  if (channel.isThread()) return { id: channel.id, kind: 'thread', name: channel.name, parentId: channel.parentId ?? undefined };
  return { id: channel.id, kind: 'channel', name: 'name' in channel ? channel.name : undefined };
}

/**
 * Whether every member of the server can read the channel: @everyone may View
 * Channel there (a thread: its parent, unless the thread is private).
 * Undefined in DMs and when the channel is not cached.
 */
export function isPublicChannel(channel: Channel | null): boolean | undefined {
  if (!channel || channel.isDMBased()) return undefined;
  if (channel.isThread()) {
    if (channel.type === ChannelType.PrivateThread) return false;
    return channel.parent ? isPublicChannel(channel.parent) : undefined;
  }
  if (!('guild' in channel) || !('permissionsFor' in channel)) return undefined;
  return channel.permissionsFor(channel.guild.roles.everyone)?.has(PermissionFlagsBits.ViewChannel) ?? undefined;
}

/** A text channel, thread or DM the bot can talk in. */
export function isConversationChannel(channel: Channel | null): boolean {
  if (!channel) return false;
  return (
    channel.isDMBased() ||
    channel.isThread() ||
    channel.type === ChannelType.GuildText ||
    channel.type === ChannelType.GuildAnnouncement ||
    channel.type === ChannelType.GuildVoice
  );
}

export function authorOf(message: Message) {
  return {
    id: message.author.id,
    username: message.author.username,
    displayName: message.member?.displayName ?? message.author.displayName ?? message.author.username,
  };
}
