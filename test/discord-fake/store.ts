import type { APIApplicationCommand, APIMessage, APIOverwrite, APIRole, APIUser } from 'discord-api-types/v10';
import { ChannelType } from 'discord-api-types/v10';
import { unknownChannel, unknownGuild, unknownMessage, unknownUser, unknownWebhook } from './errors.js';
import { Snowflakes } from './ids.js';

export interface StoredGuild {
  id: string;
  name: string;
  ownerId: string;
  icon: string | null;
  roles: APIRole[];
  /** The bot's managed role, carrying the permissions it was invited with. */
  botRoleId: string;
  members: Map<string, StoredMember>;
  locale: string;
}

export interface StoredMember {
  userId: string;
  roles: string[];
  nick: string | null;
  joinedAt: string;
}

export interface ThreadState {
  ownerId: string;
  archived: boolean;
  locked: boolean;
  autoArchiveDuration: number;
  archiveTimestamp: string;
  createTimestamp: string;
  invitable?: boolean;
  messageCount: number;
  totalMessageSent: number;
}

export interface StoredChannel {
  id: string;
  type: ChannelType;
  guildId?: string;
  name?: string;
  topic?: string | null;
  nsfw: boolean;
  position: number;
  parentId?: string | null;
  permissionOverwrites: APIOverwrite[];
  rateLimitPerUser: number;
  lastMessageId: string | null;
  /** For DMs: the other person. */
  recipientId?: string;
  thread?: ThreadState;
  deleted?: boolean;
}

export interface StoredWebhook {
  id: string;
  token: string;
  channelId: string;
  guildId: string;
  name: string;
  avatar: string | null;
  applicationId: string | null;
  creatorId: string;
  deleted: boolean;
}

export interface RecordedFile {
  /** The multipart field name, e.g. `files[0]`. */
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

/** Fake-only bookkeeping on a stored message; never sent to clients. */
export interface MessageBookkeeping {
  createdAt: number;
  /** The `avatar_url` a webhook execution asked for. */
  avatarUrl?: string;
  files: RecordedFile[];
  /** Every edit: when, and the content after it. */
  edits: { at: number; content: string }[];
  deleted: boolean;
  ephemeral: boolean;
  interactionId?: string;
}

/** A message as Discord would return it, plus `fake` bookkeeping. */
export interface StoredMessage extends APIMessage {
  guild_id?: string;
  fake: MessageBookkeeping;
}

export interface StoredFile {
  data: Buffer;
  contentType: string;
}

/** Everything the fake Discord knows. Plain maps; routes and the test API change them. */
export class FakeStore {
  readonly users = new Map<string, APIUser>();
  readonly guilds = new Map<string, StoredGuild>();
  readonly channels = new Map<string, StoredChannel>();
  readonly messages = new Map<string, StoredMessage>();
  readonly channelMessages = new Map<string, string[]>();
  readonly webhooks = new Map<string, StoredWebhook>();
  /** Registered commands: key 'global' or a guild id. */
  readonly commands = new Map<string, APIApplicationCommand[]>();
  /** Attachment bytes served under /attachments/…, keyed by attachment id. */
  readonly files = new Map<string, StoredFile>();

  constructor(
    readonly botUser: APIUser,
    readonly applicationId: string,
    readonly ids = new Snowflakes(),
  ) {
    this.users.set(botUser.id, botUser);
  }

  user(id: string): APIUser {
    const user = this.users.get(id);
    if (!user) throw unknownUser();
    return user;
  }

  guild(id: string): StoredGuild {
    const guild = this.guilds.get(id);
    if (!guild) throw unknownGuild();
    return guild;
  }

  channel(id: string): StoredChannel {
    const channel = this.channels.get(id);
    if (!channel || channel.deleted) throw unknownChannel();
    return channel;
  }

  message(channelId: string, id: string): StoredMessage {
    const message = this.messages.get(id);
    if (!message || message.fake.deleted || message.channel_id !== channelId) throw unknownMessage();
    return message;
  }

  webhook(id: string): StoredWebhook {
    const webhook = this.webhooks.get(id);
    if (!webhook || webhook.deleted) throw unknownWebhook();
    return webhook;
  }

  /** The channel whose permission overwrites apply: a thread's parent, or the channel itself. */
  permissionChannel(channel: StoredChannel): StoredChannel {
    return isThread(channel) && channel.parentId ? this.channel(channel.parentId) : channel;
  }

  addMessage(message: StoredMessage): void {
    this.messages.set(message.id, message);
    let list = this.channelMessages.get(message.channel_id);
    if (!list) this.channelMessages.set(message.channel_id, (list = []));
    list.push(message.id);
  }

  /** Messages of a channel, oldest first (deleted and ephemeral ones left out unless asked). */
  listMessages(channelId: string, options: { includeDeleted?: boolean; includeEphemeral?: boolean } = {}): StoredMessage[] {
    const ids = this.channelMessages.get(channelId) ?? [];
    return ids
      .map((id) => this.messages.get(id)!)
      .filter((message) => (options.includeDeleted || !message.fake.deleted) && (options.includeEphemeral || !message.fake.ephemeral));
  }

  channelWebhooks(channelId: string): StoredWebhook[] {
    return [...this.webhooks.values()].filter((webhook) => webhook.channelId === channelId && !webhook.deleted);
  }

  guildChannels(guildId: string): StoredChannel[] {
    return [...this.channels.values()].filter((channel) => channel.guildId === guildId && !channel.deleted);
  }
}

export function isThread(channel: StoredChannel): boolean {
  return (
    channel.type === ChannelType.PublicThread ||
    channel.type === ChannelType.PrivateThread ||
    channel.type === ChannelType.AnnouncementThread
  );
}
