import type { APIMessage, APIRole, APIUser, RoleFlags, UserFlags } from 'discord-api-types/v10';
import { ChannelType } from 'discord-api-types/v10';
import { snowflakeTime } from './ids.js';
import type { FakeStore, StoredChannel, StoredGuild, StoredMessage, StoredWebhook } from './store.js';
import { isThread } from './store.js';

/** Plain JSON objects as Discord sends them; typed loosely on purpose (Discord adds fields often). */
export type Json = Record<string, unknown>;

export function makeUser(fields: {
  id: string;
  username: string;
  globalName?: string | null;
  bot?: boolean;
  avatar?: string | null;
}): APIUser {
  const user: APIUser = {
    id: fields.id,
    username: fields.username,
    global_name: fields.globalName ?? null,
    discriminator: fields.bot ? '0001' : '0',
    avatar: fields.avatar ?? null,
    bot: fields.bot ?? false,
    public_flags: 0 as UserFlags,
    flags: 0 as UserFlags,
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
  };
  return user;
}

export function makeRole(fields: { id: string; name: string; permissions: bigint; position: number; botId?: string }): APIRole {
  const role: APIRole = {
    id: fields.id,
    name: fields.name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: fields.position,
    permissions: fields.permissions.toString(),
    managed: Boolean(fields.botId),
    mentionable: false,
    flags: 0 as RoleFlags,
    ...(fields.botId ? { tags: { bot_id: fields.botId } } : {}),
  };
  return role;
}

/** A guild member; `withUser` for REST and GUILD_CREATE, without for MESSAGE_CREATE's `member`. */
export function memberPayload(
  store: FakeStore,
  guild: StoredGuild,
  userId: string,
  options: { withUser?: boolean; permissions?: bigint } = {},
): Json {
  const member = guild.members.get(userId);
  return {
    ...(options.withUser === false ? {} : { user: store.user(userId) }),
    roles: member?.roles ?? [],
    nick: member?.nick ?? null,
    avatar: null,
    banner: null,
    joined_at: member?.joinedAt ?? new Date().toISOString(),
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
    ...(options.permissions === undefined ? {} : { permissions: options.permissions.toString() }),
  };
}

export function channelPayload(store: FakeStore, channel: StoredChannel): Json {
  if (channel.type === ChannelType.DM) {
    return {
      id: channel.id,
      type: channel.type,
      last_message_id: channel.lastMessageId,
      flags: 0,
      recipients: channel.recipientId ? [store.user(channel.recipientId)] : [],
    };
  }
  const base: Json = {
    id: channel.id,
    type: channel.type,
    guild_id: channel.guildId,
    name: channel.name,
    parent_id: channel.parentId ?? null,
    last_message_id: channel.lastMessageId,
    rate_limit_per_user: channel.rateLimitPerUser,
    flags: 0,
  };
  if (isThread(channel) && channel.thread) {
    const thread = channel.thread;
    return {
      ...base,
      owner_id: thread.ownerId,
      message_count: thread.messageCount,
      total_message_sent: thread.totalMessageSent,
      member_count: 1,
      thread_metadata: {
        archived: thread.archived,
        locked: thread.locked,
        auto_archive_duration: thread.autoArchiveDuration,
        archive_timestamp: thread.archiveTimestamp,
        create_timestamp: thread.createTimestamp,
        ...(thread.invitable === undefined ? {} : { invitable: thread.invitable }),
      },
    };
  }
  return {
    ...base,
    position: channel.position,
    permission_overwrites: channel.permissionOverwrites,
    nsfw: channel.nsfw,
    topic: channel.topic ?? null,
    default_thread_rate_limit_per_user: 0,
  };
}

/** GET /guilds/:id */
export function guildPayload(guild: StoredGuild): Json {
  return {
    id: guild.id,
    name: guild.name,
    icon: guild.icon,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 1,
    explicit_content_filter: 0,
    roles: guild.roles,
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    vanity_url_code: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    premium_progress_bar_enabled: false,
    preferred_locale: guild.locale,
    nsfw_level: 0,
    hub_type: null,
    incidents_data: null,
    max_members: 500000,
    max_video_channel_users: 25,
  };
}

/** GUILD_CREATE: the guild with its channels, threads, members and `unavailable: false`. */
export function guildCreatePayload(store: FakeStore, guild: StoredGuild): Json {
  const channels = store.guildChannels(guild.id);
  const bot = guild.members.get(store.botUser.id);
  return {
    ...guildPayload(guild),
    unavailable: false,
    joined_at: bot?.joinedAt ?? new Date(snowflakeTime(guild.id)).toISOString(),
    large: false,
    member_count: guild.members.size,
    members: [...guild.members.keys()].map((userId) => memberPayload(store, guild, userId)),
    channels: channels.filter((channel) => !isThread(channel)).map((channel) => channelPayload(store, channel)),
    threads: channels.filter((channel) => isThread(channel) && !channel.thread?.archived).map((channel) => channelPayload(store, channel)),
    voice_states: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export function webhookPayload(store: FakeStore, webhook: StoredWebhook, options: { withUser: boolean }): Json {
  return {
    id: webhook.id,
    type: 1,
    guild_id: webhook.guildId,
    channel_id: webhook.channelId,
    name: webhook.name,
    avatar: webhook.avatar,
    token: webhook.token,
    application_id: webhook.applicationId,
    ...(options.withUser ? { user: store.user(webhook.creatorId) } : {}),
  };
}

/** A stored message without the fake's bookkeeping: exactly what Discord would send. */
export function messagePayload(message: StoredMessage): APIMessage & { guild_id?: string } {
  const { fake: _fake, ...payload } = message;
  return payload;
}

/**
 * MESSAGE_CREATE/MESSAGE_UPDATE data: the message plus `guild_id` and the
 * author's `member` in guilds; MESSAGE_CREATE also carries `channel_type`
 * (discord.js needs it to build an uncached DM channel).
 */
export function messageDispatchPayload(store: FakeStore, message: StoredMessage, options: { create?: boolean } = {}): Json {
  const payload: Json = { ...messagePayload(message) };
  if (options.create) {
    const channel = store.channels.get(message.channel_id);
    if (channel) payload.channel_type = channel.type;
  }
  const guildId = message.guild_id;
  if (guildId && !message.webhook_id) {
    const guild = store.guilds.get(guildId);
    if (guild?.members.has(message.author.id)) payload.member = memberPayload(store, guild, message.author.id, { withUser: false });
  }
  return payload;
}
