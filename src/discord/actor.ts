import type { EntityManager } from '@mikro-orm/postgresql';
import { ChannelType, PermissionFlagsBits, type BaseInteraction, type Channel, type Message } from 'discord.js';
import type { ChannelRef } from '../chat/conversations.js';
import { resolveActor, type Actor } from '../core/identity.js';

/** The acting user and server of an interaction, as core rows. Manage Server makes a server admin. */
export function actorOf(em: EntityManager, interaction: BaseInteraction): Promise<Actor> {
  return resolveActor(em, {
    user: { id: interaction.user.id, username: interaction.user.displayName ?? interaction.user.username },
    guild: interaction.guildId ? { id: interaction.guildId, name: interaction.guild?.name } : undefined,
    isGuildAdmin: interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false,
  });
}

/** Where a conversation lives: a channel, a thread (with its parent for the webhook) or a DM. */
export function channelRefOf(channel: Channel | null, channelId: string): ChannelRef & { parentId?: string } {
  if (!channel) return { id: channelId, kind: 'channel' };
  if (channel.isDMBased()) return { id: channel.id, kind: 'dm' };
  if (channel.isThread()) return { id: channel.id, kind: 'thread', name: channel.name, parentId: channel.parentId ?? undefined };
  return { id: channel.id, kind: 'channel', name: 'name' in channel ? channel.name : undefined };
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
