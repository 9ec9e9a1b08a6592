import type { APIAttachment, APIUser } from 'discord-api-types/v10';
import { MessageFlags, MessageType } from 'discord-api-types/v10';
import type { FakeContext } from './context.js';
import { invalidForm, threadArchived } from './errors.js';
import { channelPayload, messageDispatchPayload, messagePayload, type Json } from './payloads.js';
import type { RecordedFile, StoredChannel, StoredMessage } from './store.js';
import { isThread } from './store.js';
import type { MessageBody } from './validation.js';

export interface NewMessage {
  channel: StoredChannel;
  author: APIUser;
  body: MessageBody;
  files?: RecordedFile[];
  /** Attachments that already exist (a user's upload). */
  attachments?: APIAttachment[];
  type?: MessageType;
  /** The webhook that posted it (for interaction replies: the application id). */
  webhookId?: string;
  /** Set on messages an application sent (interaction replies, app-owned webhooks). */
  applicationId?: string;
  avatarUrl?: string;
  interactionMetadata?: Json;
  interactionId?: string;
  ephemeral?: boolean;
  /** A reference set by Discord itself (system messages), not checked. */
  systemReference?: Json;
  /** User ids mentioned besides those written as <@id> in the content. */
  extraMentions?: string[];
  /** Apply allowed_mentions (bot and webhook messages); users' own messages mention freely. */
  fromApp?: boolean;
}

/** Discord's timestamp format: `2026-11-22T10:00:00.000000+00:00`. */
export function discordTimestamp(at = Date.now()): string {
  return new Date(at).toISOString().replace('Z', '000+00:00');
}

/** Stores a message, updates the channel and dispatches MESSAGE_CREATE (unless ephemeral). */
export function createMessage(ctx: FakeContext, input: NewMessage): StoredMessage {
  const { store } = ctx;
  const { channel, body } = input;
  reopenArchivedThread(ctx, channel);
  const now = Date.now();
  const id = store.ids.next(now);
  const reference = resolveReference(ctx, channel, body);
  const flags = (body.flags ?? 0) | (input.ephemeral ? MessageFlags.Ephemeral : 0);
  const message: StoredMessage = {
    id,
    channel_id: channel.id,
    ...(channel.guildId ? { guild_id: channel.guildId } : {}),
    author: input.author,
    content: body.content ?? '',
    timestamp: discordTimestamp(now),
    edited_timestamp: null,
    tts: Boolean(body.tts),
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [...(input.attachments ?? []), ...makeAttachments(ctx, channel.id, input.files ?? [], body)],
    embeds: normaliseEmbeds(body.embeds),
    components: (body.components ?? []) as StoredMessage['components'],
    pinned: false,
    type: input.type ?? (reference ? MessageType.Reply : MessageType.Default),
    flags,
    ...(body.nonce !== undefined ? { nonce: body.nonce } : {}),
    ...(input.webhookId ? { webhook_id: input.webhookId } : {}),
    ...(input.applicationId ? { application_id: input.applicationId } : {}),
    ...(input.interactionMetadata ? { interaction_metadata: input.interactionMetadata as never } : {}),
    ...(input.systemReference ? { message_reference: input.systemReference as never } : {}),
    ...(reference ? { message_reference: reference.reference, referenced_message: reference.payload } : {}),
    ...(isThread(channel) ? { position: channel.thread!.totalMessageSent } : {}),
    fake: {
      createdAt: now,
      ...(input.avatarUrl ? { avatarUrl: input.avatarUrl } : {}),
      files: input.files ?? [],
      edits: [],
      deleted: false,
      ephemeral: Boolean(input.ephemeral),
      ...(input.interactionId ? { interactionId: input.interactionId } : {}),
    },
  };
  applyMentions(ctx, message, body, input.fromApp ?? false, reference?.authorId, input.extraMentions);
  store.addMessage(message);
  if (!message.fake.ephemeral) {
    channel.lastMessageId = id;
    if (channel.thread) {
      channel.thread.messageCount++;
      channel.thread.totalMessageSent++;
    }
    ctx.dispatch('MESSAGE_CREATE', messageDispatchPayload(store, message, { create: true }));
  }
  ctx.signal.notify();
  return message;
}

/** Applies an edit (only the fields present), records it and dispatches MESSAGE_UPDATE. */
export function editMessage(ctx: FakeContext, message: StoredMessage, body: MessageBody, files: RecordedFile[] = []): StoredMessage {
  const now = Date.now();
  if (body.content !== undefined) message.content = body.content ?? '';
  if (body.embeds !== undefined) message.embeds = normaliseEmbeds(body.embeds);
  if (body.components !== undefined) message.components = (body.components ?? []) as StoredMessage['components'];
  if (body.flags !== undefined && body.flags !== null) {
    const kept = (message.flags ?? 0) & (MessageFlags.Ephemeral | MessageFlags.HasThread);
    message.flags = kept | (body.flags & ~MessageFlags.Loading);
  } else if ((message.flags ?? 0) & MessageFlags.Loading) {
    message.flags = (message.flags ?? 0) & ~MessageFlags.Loading;
  }
  if (body.attachments !== undefined || files.length > 0) {
    const keep = new Set((body.attachments ?? message.attachments).map((attachment) => String(attachment.id)));
    message.attachments = [
      ...message.attachments.filter((attachment) => keep.has(attachment.id)),
      ...makeAttachments(ctx, message.channel_id, files, body),
    ];
    message.fake.files.push(...files);
  }
  if (body.content !== undefined || body.allowed_mentions !== undefined) applyMentions(ctx, message, body, true);
  message.edited_timestamp = discordTimestamp(now);
  message.fake.edits.push({ at: now, content: message.content });
  if (!message.fake.ephemeral) ctx.dispatch('MESSAGE_UPDATE', messageDispatchPayload(ctx.store, message));
  ctx.signal.notify();
  return message;
}

export function deleteMessage(ctx: FakeContext, message: StoredMessage): void {
  message.fake.deleted = true;
  if (!message.fake.ephemeral) {
    ctx.dispatch('MESSAGE_DELETE', {
      id: message.id,
      channel_id: message.channel_id,
      ...(message.guild_id ? { guild_id: message.guild_id } : {}),
    });
  }
  ctx.signal.notify();
}

/** Turns uploaded files into attachment objects served by the fake's /attachments/ route. */
function makeAttachments(ctx: FakeContext, channelId: string, files: RecordedFile[], body: MessageBody): APIAttachment[] {
  return files.map((file, index) => {
    const fieldIndex = /\[(\d+)\]/.exec(file.field)?.[1] ?? String(index);
    const described = body.attachments?.find((attachment) => String(attachment.id) === fieldIndex);
    return storeAttachment(ctx, channelId, {
      filename: described?.filename ?? file.filename,
      contentType: file.contentType,
      data: file.data,
      ...(described?.description ? { description: described.description } : {}),
    });
  });
}

export function storeAttachment(
  ctx: FakeContext,
  channelId: string,
  file: { filename: string; contentType: string; data: Buffer; description?: string },
): APIAttachment {
  const id = ctx.store.ids.next();
  ctx.store.files.set(id, { data: file.data, contentType: file.contentType });
  const url = ctx.cdn.sign(`${ctx.baseUrl()}/attachments/${channelId}/${id}/${encodeURIComponent(file.filename)}`);
  const size = pngSize(file.data);
  return {
    id,
    filename: file.filename,
    size: file.data.length,
    url,
    proxy_url: url,
    content_type: file.contentType,
    ...(file.description ? { description: file.description } : {}),
    ...(size ? { width: size.width, height: size.height } : {}),
  } as APIAttachment;
}

function reopenArchivedThread(ctx: FakeContext, channel: StoredChannel): void {
  if (!channel.thread?.archived) return;
  if (channel.thread.locked) throw threadArchived();
  channel.thread.archived = false;
  channel.thread.archiveTimestamp = discordTimestamp();
  ctx.dispatch('THREAD_UPDATE', channelPayload(ctx.store, channel));
}

function resolveReference(ctx: FakeContext, channel: StoredChannel, body: MessageBody) {
  const reference = body.message_reference;
  if (!reference?.message_id) return undefined;
  const target = ctx.store.messages.get(reference.message_id);
  const channelId = reference.channel_id ?? channel.id;
  if (!target || target.fake.deleted || target.channel_id !== channelId) {
    if (reference.fail_if_not_exists === false) return undefined;
    throw invalidForm([{ path: ['message_reference'], code: 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', message: 'Unknown message' }]);
  }
  return {
    authorId: target.author.id,
    reference: { type: 0, message_id: target.id, channel_id: target.channel_id, ...(target.guild_id ? { guild_id: target.guild_id } : {}) },
    payload: messagePayload(target),
  };
}

function applyMentions(
  ctx: FakeContext,
  message: StoredMessage,
  body: MessageBody,
  fromApp: boolean,
  repliedUserId?: string,
  extraMentions: string[] = [],
): void {
  const allowed = fromApp ? body.allowed_mentions : undefined;
  const parse = allowed?.parse ?? (allowed ? [] : ['users', 'roles', 'everyone']);
  const userIds = new Set<string>();
  for (const match of message.content.matchAll(/<@!?(\d{15,21})>/g)) {
    const id = match[1]!;
    if (parse.includes('users') || allowed?.users?.includes(id)) userIds.add(id);
  }
  if (repliedUserId && allowed?.replied_user !== false) userIds.add(repliedUserId);
  for (const id of extraMentions) userIds.add(id);
  message.mentions = [...userIds].map((id) => ctx.store.users.get(id)).filter((user): user is APIUser => Boolean(user));
  message.mention_roles = [...message.content.matchAll(/<@&(\d{15,21})>/g)]
    .map((match) => match[1]!)
    .filter((id) => parse.includes('roles') || allowed?.roles?.includes(id));
  message.mention_everyone = parse.includes('everyone') && /@(everyone|here)\b/.test(message.content);
}

function normaliseEmbeds(embeds: MessageBody['embeds']): StoredMessage['embeds'] {
  return (embeds ?? []).map((embed) => ({ type: 'rich', ...embed })) as StoredMessage['embeds'];
}

function pngSize(data: Buffer): { width: number; height: number } | undefined {
  if (data.length < 24 || data.readUInt32BE(0) !== 0x89504e47) return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}
