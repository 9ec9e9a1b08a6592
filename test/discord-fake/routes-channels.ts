import { ChannelType, PermissionFlagsBits } from 'discord-api-types/v10';
import type { FakeContext } from './context.js';
import { invalidForm, missingPermissions, notAuthor } from './errors.js';
import { createThread } from './guild-setup.js';
import { createMessage, deleteMessage, discordTimestamp, editMessage } from './messages.js';
import { channelPayload, messagePayload } from './payloads.js';
import { channelPermissions, requireBotPermissions } from './permissions.js';
import type { Route, RouteRequest } from './router.js';
import { isThread, type StoredChannel } from './store.js';
import { validateMessageBody, type MessageBody } from './validation.js';

const noContent = { status: 204 };

function channelFor(request: RouteRequest, ctx: FakeContext): StoredChannel {
  const channel = ctx.store.channel(request.params.channelId!);
  if (channel.guildId) requireBotPermissions(ctx.store, channel, PermissionFlagsBits.ViewChannel);
  return channel;
}

function sendPermission(channel: StoredChannel): bigint {
  return isThread(channel) ? PermissionFlagsBits.SendMessagesInThreads : PermissionFlagsBits.SendMessages;
}

export const channelRoutes: Route[] = [
  {
    method: 'GET',
    path: '/channels/:channelId',
    handle: (request, ctx) => ({ body: channelPayload(ctx.store, channelFor(request, ctx)) }),
  },
  {
    method: 'PATCH',
    path: '/channels/:channelId',
    handle: (request, ctx) => {
      const channel = channelFor(request, ctx);
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (isThread(channel) && channel.thread) {
        const ownsIt = channel.thread.ownerId === ctx.store.botUser.id;
        const onlyArchiving = Object.keys(body).every((key) => key === 'archived');
        if (!(ownsIt && onlyArchiving)) requireBotPermissions(ctx.store, channel, PermissionFlagsBits.ManageThreads);
        const thread = channel.thread;
        if (typeof body.archived === 'boolean') {
          thread.archived = body.archived;
          thread.archiveTimestamp = discordTimestamp();
        }
        if (typeof body.locked === 'boolean') thread.locked = body.locked;
        if (typeof body.auto_archive_duration === 'number') thread.autoArchiveDuration = body.auto_archive_duration;
        if (typeof body.invitable === 'boolean') thread.invitable = body.invitable;
        if (typeof body.name === 'string') channel.name = body.name;
        ctx.dispatch('THREAD_UPDATE', channelPayload(ctx.store, channel));
      } else {
        requireBotPermissions(ctx.store, channel, PermissionFlagsBits.ManageChannels);
        if (typeof body.name === 'string') channel.name = body.name;
        if (body.topic !== undefined) channel.topic = body.topic as string | null;
        if (typeof body.nsfw === 'boolean') channel.nsfw = body.nsfw;
        if (typeof body.rate_limit_per_user === 'number') channel.rateLimitPerUser = body.rate_limit_per_user;
        ctx.dispatch('CHANNEL_UPDATE', channelPayload(ctx.store, channel));
      }
      ctx.signal.notify();
      return { body: channelPayload(ctx.store, channel) };
    },
  },
  {
    method: 'DELETE',
    path: '/channels/:channelId',
    handle: (request, ctx) => {
      const channel = channelFor(request, ctx);
      requireBotPermissions(ctx.store, channel, isThread(channel) ? PermissionFlagsBits.ManageThreads : PermissionFlagsBits.ManageChannels);
      channel.deleted = true;
      const payload = channelPayload(ctx.store, channel);
      ctx.dispatch(isThread(channel) ? 'THREAD_DELETE' : 'CHANNEL_DELETE', payload);
      ctx.signal.notify();
      return { body: payload };
    },
  },
  {
    method: 'GET',
    path: '/channels/:channelId/messages',
    handle: (request, ctx) => {
      const channel = channelFor(request, ctx);
      requireBotPermissions(ctx.store, channel, PermissionFlagsBits.ReadMessageHistory);
      const limit = Number(request.query.get('limit') ?? 50);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        throw invalidForm([{ path: ['limit'], code: 'NUMBER_TYPE_MAX', message: 'Int value should be less than or equal to 100.' }]);
      }
      const before = request.query.get('before');
      const after = request.query.get('after');
      let messages = ctx.store.listMessages(channel.id).reverse();
      if (before) messages = messages.filter((message) => BigInt(message.id) < BigInt(before));
      if (after)
        messages = messages
          .filter((message) => BigInt(message.id) > BigInt(after))
          .reverse()
          .slice(0, limit)
          .reverse();
      return { body: messages.slice(0, limit).map(messagePayload) };
    },
  },
  {
    method: 'GET',
    path: '/channels/:channelId/messages/:messageId',
    handle: (request, ctx) => {
      const channel = channelFor(request, ctx);
      requireBotPermissions(ctx.store, channel, PermissionFlagsBits.ReadMessageHistory);
      return { body: messagePayload(ctx.store.message(channel.id, request.params.messageId!)) };
    },
  },
  {
    method: 'POST',
    path: '/channels/:channelId/messages',
    handle: (request, ctx) => {
      const channel = channelFor(request, ctx);
      const body = (request.body ?? {}) as MessageBody;
      requireBotPermissions(ctx.store, channel, sendPermission(channel) | (request.files.length ? PermissionFlagsBits.AttachFiles : 0n));
      validateMessageBody(body, { fileCount: request.files.length, isEdit: false });
      const message = createMessage(ctx, { channel, author: ctx.store.botUser, body, files: request.files, fromApp: true });
      return { body: messagePayload(message) };
    },
  },
  {
    method: 'PATCH',
    path: '/channels/:channelId/messages/:messageId',
    handle: (request, ctx) => {
      const channel = channelFor(request, ctx);
      const message = ctx.store.message(channel.id, request.params.messageId!);
      if (message.author.id !== ctx.store.botUser.id || message.webhook_id) throw notAuthor();
      const body = (request.body ?? {}) as MessageBody;
      validateMessageBody(body, { fileCount: request.files.length, isEdit: true });
      return { body: messagePayload(editMessage(ctx, message, body, request.files)) };
    },
  },
  {
    method: 'DELETE',
    path: '/channels/:channelId/messages/:messageId',
    handle: (request, ctx) => {
      const channel = channelFor(request, ctx);
      const message = ctx.store.message(channel.id, request.params.messageId!);
      const own = message.author.id === ctx.store.botUser.id && !message.webhook_id;
      if (!own && !(channelPermissions(ctx.store, channel, ctx.store.botUser.id) & PermissionFlagsBits.ManageMessages)) {
        if (channel.type !== ChannelType.DM) throw missingPermissions();
      }
      deleteMessage(ctx, message);
      return noContent;
    },
  },
  {
    method: 'POST',
    path: '/channels/:channelId/typing',
    handle: (request, ctx) => {
      const channel = channelFor(request, ctx);
      requireBotPermissions(ctx.store, channel, sendPermission(channel));
      ctx.signal.notify();
      return noContent;
    },
  },
  {
    method: 'POST',
    path: '/channels/:channelId/threads',
    handle: (request, ctx) => {
      const channel = channelFor(request, ctx);
      const body = (request.body ?? {}) as { name?: string; type?: number; auto_archive_duration?: number; invitable?: boolean };
      // Discord's default for a thread without a message is a private thread.
      const type = body.type === ChannelType.PublicThread ? ChannelType.PublicThread : ChannelType.PrivateThread;
      requireBotPermissions(
        ctx.store,
        channel,
        type === ChannelType.PublicThread ? PermissionFlagsBits.CreatePublicThreads : PermissionFlagsBits.CreatePrivateThreads,
      );
      const thread = createThread(ctx, channel.id, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        type,
        ...(body.auto_archive_duration !== undefined ? { autoArchiveDuration: body.auto_archive_duration } : {}),
        ...(body.invitable !== undefined ? { invitable: body.invitable } : {}),
      });
      return { status: 201, body: channelPayload(ctx.store, thread) };
    },
  },
  {
    method: 'POST',
    path: '/channels/:channelId/messages/:messageId/threads',
    handle: (request, ctx) => {
      const channel = channelFor(request, ctx);
      requireBotPermissions(ctx.store, channel, PermissionFlagsBits.CreatePublicThreads);
      const body = (request.body ?? {}) as { name?: string; auto_archive_duration?: number };
      const thread = createThread(ctx, channel.id, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        fromMessageId: request.params.messageId!,
        ...(body.auto_archive_duration !== undefined ? { autoArchiveDuration: body.auto_archive_duration } : {}),
      });
      return { status: 201, body: channelPayload(ctx.store, thread) };
    },
  },
];
