import type { APIOverwrite, APIUser } from 'discord-api-types/v10';
import { ChannelType, MessageFlags, MessageType } from 'discord-api-types/v10';
import type { FakeContext } from './context.js';
import { invalidForm, threadAlreadyExists, wrongChannelType } from './errors.js';
import { createMessage, discordTimestamp } from './messages.js';
import { channelPayload, guildCreatePayload, makeRole, makeUser, messageDispatchPayload } from './payloads.js';
import { DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS } from './permissions.js';
import type { StoredChannel, StoredGuild, StoredMember, StoredMessage } from './store.js';

export interface GuildOptions {
  name?: string;
  ownerId?: string;
  /** The bot's role permissions (default: a sensible invite set without Administrator). */
  botPermissions?: bigint;
  everyonePermissions?: bigint;
  locale?: string;
}

export interface ChannelOptions {
  name?: string;
  nsfw?: boolean;
  topic?: string;
  permissionOverwrites?: APIOverwrite[];
  rateLimitPerUser?: number;
}

export interface ThreadOptions {
  name?: string;
  /** 11 public (default), 12 private. */
  type?: ChannelType.PublicThread | ChannelType.PrivateThread;
  ownerId?: string;
  archived?: boolean;
  locked?: boolean;
  autoArchiveDuration?: number;
  invitable?: boolean;
  /** Make the thread from this message (its id becomes the thread id). */
  fromMessageId?: string;
  /** Dispatch THREAD_CREATE with `newly_created` (default true). */
  dispatch?: boolean;
}

export function addUser(
  ctx: FakeContext,
  options: { username: string; globalName?: string | null; bot?: boolean; avatar?: string | null; id?: string },
): APIUser {
  const user = makeUser({ id: options.id ?? ctx.store.ids.next(), ...options });
  ctx.store.users.set(user.id, user);
  return user;
}

/** A guild with @everyone, the bot's managed role and the bot as a member; dispatches GUILD_CREATE when sessions are live. */
export function addGuild(ctx: FakeContext, options: GuildOptions = {}): StoredGuild {
  const { store } = ctx;
  const id = store.ids.next();
  const ownerId = options.ownerId ?? addUser(ctx, { username: 'owner' }).id;
  const botRoleId = store.ids.next();
  const guild: StoredGuild = {
    id,
    name: options.name ?? 'Test Server',
    ownerId,
    icon: null,
    roles: [
      makeRole({ id, name: '@everyone', permissions: options.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS, position: 0 }),
      makeRole({
        id: botRoleId,
        name: store.botUser.username,
        permissions: options.botPermissions ?? DEFAULT_BOT_PERMISSIONS,
        position: 1,
        botId: store.botUser.id,
      }),
    ],
    botRoleId,
    members: new Map(),
    locale: options.locale ?? 'en-US',
  };
  store.guilds.set(id, guild);
  addMember(ctx, guild, store.botUser.id, { roles: [botRoleId] });
  if (store.users.has(ownerId)) addMember(ctx, guild, ownerId);
  ctx.dispatch('GUILD_CREATE', guildCreatePayload(store, guild));
  return guild;
}

export function addMember(
  ctx: FakeContext,
  guild: StoredGuild,
  userId: string,
  options: { roles?: string[]; nick?: string } = {},
): StoredMember {
  const member: StoredMember = { userId, roles: options.roles ?? [], nick: options.nick ?? null, joinedAt: discordTimestamp() };
  guild.members.set(userId, member);
  return member;
}

export function addTextChannel(ctx: FakeContext, guildId: string, options: ChannelOptions = {}): StoredChannel {
  const { store } = ctx;
  const guild = store.guild(guildId);
  const channel: StoredChannel = {
    id: store.ids.next(),
    type: ChannelType.GuildText,
    guildId: guild.id,
    name: options.name ?? 'general',
    topic: options.topic ?? null,
    nsfw: options.nsfw ?? false,
    position: store.guildChannels(guild.id).length,
    parentId: null,
    permissionOverwrites: options.permissionOverwrites ?? [],
    rateLimitPerUser: options.rateLimitPerUser ?? 0,
    lastMessageId: null,
  };
  store.channels.set(channel.id, channel);
  ctx.dispatch('CHANNEL_CREATE', channelPayload(store, channel));
  return channel;
}

export function addDmChannel(ctx: FakeContext, userId: string): StoredChannel {
  const { store } = ctx;
  store.user(userId);
  const existing = [...store.channels.values()].find((channel) => channel.type === ChannelType.DM && channel.recipientId === userId);
  if (existing) return existing;
  const channel: StoredChannel = {
    id: store.ids.next(),
    type: ChannelType.DM,
    nsfw: false,
    position: 0,
    permissionOverwrites: [],
    rateLimitPerUser: 0,
    lastMessageId: null,
    recipientId: userId,
  };
  store.channels.set(channel.id, channel);
  return channel;
}

/** Creates a thread under a text channel (as Discord does for POST …/threads), dispatching THREAD_CREATE. */
export function createThread(ctx: FakeContext, parentId: string, options: ThreadOptions = {}): StoredChannel {
  const { store } = ctx;
  const parent = store.channel(parentId);
  if (parent.type !== ChannelType.GuildText && parent.type !== ChannelType.GuildAnnouncement) throw wrongChannelType();
  const name = options.name ?? 'thread';
  if (name.length < 1 || name.length > 100) {
    throw invalidForm([{ path: ['name'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }]);
  }
  const duration = options.autoArchiveDuration ?? 4320;
  if (![60, 1440, 4320, 10080].includes(duration)) {
    throw invalidForm([
      { path: ['auto_archive_duration'], code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {60, 1440, 4320, 10080}.' },
    ]);
  }
  let starter: StoredMessage | undefined;
  if (options.fromMessageId) {
    starter = store.message(parent.id, options.fromMessageId);
    if (starter.thread || store.channels.has(starter.id)) throw threadAlreadyExists();
  }
  const type = starter ? ChannelType.PublicThread : (options.type ?? ChannelType.PublicThread);
  const now = discordTimestamp();
  const thread: StoredChannel = {
    id: starter?.id ?? store.ids.next(),
    type,
    guildId: parent.guildId!,
    name,
    nsfw: parent.nsfw,
    position: 0,
    parentId: parent.id,
    permissionOverwrites: [],
    rateLimitPerUser: 0,
    lastMessageId: null,
    thread: {
      ownerId: options.ownerId ?? store.botUser.id,
      archived: options.archived ?? false,
      locked: options.locked ?? false,
      autoArchiveDuration: duration,
      archiveTimestamp: now,
      createTimestamp: now,
      ...(type === ChannelType.PrivateThread ? { invitable: options.invitable ?? true } : {}),
      messageCount: 0,
      totalMessageSent: 0,
    },
  };
  store.channels.set(thread.id, thread);
  if (options.dispatch !== false) ctx.dispatch('THREAD_CREATE', { ...channelPayload(store, thread), newly_created: true });
  if (starter) {
    starter.thread = channelPayload(store, thread) as never;
    starter.flags = (starter.flags ?? 0) | MessageFlags.HasThread;
    ctx.dispatch('MESSAGE_UPDATE', messageDispatchPayload(store, starter));
  } else if (type === ChannelType.PublicThread && options.dispatch !== false) {
    createMessage(ctx, {
      channel: parent,
      author: store.user(thread.thread!.ownerId),
      body: { content: name },
      type: MessageType.ThreadCreated,
      systemReference: { type: 0, channel_id: thread.id, guild_id: thread.guildId },
    });
  }
  ctx.signal.notify();
  return thread;
}
