import { createHash } from 'node:crypto';
import { PermissionFlagsBits } from 'discord-api-types/v10';
import type { FakeContext } from './context.js';
import { invalidForm, invalidWebhookToken, tooManyWebhooks, unknownChannel, unknownMessage, wrongChannelType } from './errors.js';
import { randomToken } from './ids.js';
import { deleteInteractionMessage, editInteractionMessage, followUp, getInteractionMessage } from './interaction-responses.js';
import { createMessage, deleteMessage, editMessage } from './messages.js';
import { makeUser, messagePayload, webhookPayload } from './payloads.js';
import { requireBotPermissions } from './permissions.js';
import type { Route, RouteRequest, RouteResult } from './router.js';
import { isThread, type StoredChannel, type StoredMessage, type StoredWebhook } from './store.js';
import { validateMessageBody, webhookNameProblems, type MessageBody } from './validation.js';

const MAX_WEBHOOKS_PER_CHANNEL = 15;

function webhookChannel(request: RouteRequest, ctx: FakeContext): StoredChannel {
  const channel = ctx.store.channel(request.params.channelId!);
  if (isThread(channel) || !channel.guildId) throw wrongChannelType();
  requireBotPermissions(ctx.store, channel, PermissionFlagsBits.ManageWebhooks);
  return channel;
}

/** The webhook for id + token: 404 10015 when unknown or deleted, 401 50027 for a wrong token. */
function webhookWithToken(ctx: FakeContext, request: RouteRequest): StoredWebhook {
  const webhook = ctx.store.webhook(request.params.webhookId!);
  if (webhook.token !== request.params.token) throw invalidWebhookToken();
  return webhook;
}

function isInteractionToken(ctx: FakeContext, request: RouteRequest): boolean {
  return request.params.webhookId === ctx.store.applicationId;
}

/** A webhook's message, looked up in `thread_id` when given (Discord needs it for messages in threads). */
function webhookMessage(ctx: FakeContext, request: RouteRequest, webhook: StoredWebhook): StoredMessage {
  const channelId = request.query.get('thread_id') ?? webhook.channelId;
  const message = ctx.store.message(channelId, request.params.messageId!);
  if (message.webhook_id !== webhook.id) throw unknownMessage();
  return message;
}

function avatarHash(url: string): string {
  return createHash('md5').update(url).digest('hex');
}

function deleteWebhookRoute(ctx: FakeContext, webhook: StoredWebhook): RouteResult {
  webhook.deleted = true;
  ctx.dispatch('WEBHOOKS_UPDATE', { guild_id: webhook.guildId, channel_id: webhook.channelId });
  ctx.signal.notify();
  return { status: 204 };
}

export const webhookRoutes: Route[] = [
  {
    method: 'GET',
    path: '/channels/:channelId/webhooks',
    handle: (request, ctx) => {
      const channel = webhookChannel(request, ctx);
      return { body: ctx.store.channelWebhooks(channel.id).map((webhook) => webhookPayload(ctx.store, webhook, { withUser: true })) };
    },
  },
  {
    method: 'POST',
    path: '/channels/:channelId/webhooks',
    handle: (request, ctx) => {
      const channel = webhookChannel(request, ctx);
      const body = (request.body ?? {}) as { name?: string; avatar?: string | null };
      const problems = webhookNameProblems(body.name, 'name');
      if (problems.length) throw invalidForm(problems);
      if (ctx.store.channelWebhooks(channel.id).length >= MAX_WEBHOOKS_PER_CHANNEL) throw tooManyWebhooks();
      const webhook: StoredWebhook = {
        id: ctx.store.ids.next(),
        token: randomToken(51),
        channelId: channel.id,
        guildId: channel.guildId!,
        name: body.name!,
        avatar: body.avatar ? avatarHash(body.avatar) : null,
        applicationId: ctx.store.applicationId,
        creatorId: ctx.store.botUser.id,
        deleted: false,
      };
      ctx.store.webhooks.set(webhook.id, webhook);
      ctx.dispatch('WEBHOOKS_UPDATE', { guild_id: webhook.guildId, channel_id: webhook.channelId });
      ctx.signal.notify();
      return { body: webhookPayload(ctx.store, webhook, { withUser: true }) };
    },
  },
  {
    method: 'GET',
    path: '/webhooks/:webhookId',
    handle: (request, ctx) => ({ body: webhookPayload(ctx.store, ctx.store.webhook(request.params.webhookId!), { withUser: true }) }),
  },
  {
    method: 'DELETE',
    path: '/webhooks/:webhookId',
    handle: (request, ctx) => {
      const webhook = ctx.store.webhook(request.params.webhookId!);
      requireBotPermissions(ctx.store, ctx.store.channel(webhook.channelId), PermissionFlagsBits.ManageWebhooks);
      return deleteWebhookRoute(ctx, webhook);
    },
  },
  {
    method: 'GET',
    path: '/webhooks/:webhookId/:token',
    auth: 'none',
    handle: (request, ctx) => ({ body: webhookPayload(ctx.store, webhookWithToken(ctx, request), { withUser: false }) }),
  },
  {
    method: 'DELETE',
    path: '/webhooks/:webhookId/:token',
    auth: 'none',
    handle: (request, ctx) => deleteWebhookRoute(ctx, webhookWithToken(ctx, request)),
  },
  {
    method: 'POST',
    path: '/webhooks/:webhookId/:token',
    auth: 'none',
    handle: (request, ctx) => {
      if (isInteractionToken(ctx, request)) return followUp(ctx, request);
      const webhook = webhookWithToken(ctx, request);
      let channel = ctx.store.channel(webhook.channelId);
      const threadId = request.query.get('thread_id');
      if (threadId) {
        const thread = ctx.store.channels.get(threadId);
        if (!thread || thread.deleted || thread.parentId !== webhook.channelId) throw unknownChannel();
        channel = thread;
      }
      const body = (request.body ?? {}) as MessageBody;
      validateMessageBody(body, { fileCount: request.files.length, isEdit: false });
      const author = {
        ...makeUser({
          id: webhook.id,
          username: body.username ?? webhook.name,
          avatar: body.avatar_url ? avatarHash(body.avatar_url) : webhook.avatar,
          bot: true,
        }),
        discriminator: '0000',
      };
      const message = createMessage(ctx, {
        channel,
        author,
        body,
        files: request.files,
        webhookId: webhook.id,
        ...(webhook.applicationId ? { applicationId: webhook.applicationId } : {}),
        ...(body.avatar_url ? { avatarUrl: body.avatar_url } : {}),
        fromApp: true,
      });
      return request.query.get('wait') === 'true' ? { body: messagePayload(message) } : { status: 204 };
    },
  },
  {
    method: 'GET',
    path: '/webhooks/:webhookId/:token/messages/:messageId',
    auth: 'none',
    handle: (request, ctx) => {
      if (isInteractionToken(ctx, request)) return getInteractionMessage(ctx, request);
      return { body: messagePayload(webhookMessage(ctx, request, webhookWithToken(ctx, request))) };
    },
  },
  {
    method: 'PATCH',
    path: '/webhooks/:webhookId/:token/messages/:messageId',
    auth: 'none',
    handle: (request, ctx) => {
      if (isInteractionToken(ctx, request)) return editInteractionMessage(ctx, request);
      const message = webhookMessage(ctx, request, webhookWithToken(ctx, request));
      const body = (request.body ?? {}) as MessageBody;
      validateMessageBody(body, { fileCount: request.files.length, isEdit: true });
      return { body: messagePayload(editMessage(ctx, message, body, request.files)) };
    },
  },
  {
    method: 'DELETE',
    path: '/webhooks/:webhookId/:token/messages/:messageId',
    auth: 'none',
    handle: (request, ctx) => {
      if (isInteractionToken(ctx, request)) return deleteInteractionMessage(ctx, request);
      deleteMessage(ctx, webhookMessage(ctx, request, webhookWithToken(ctx, request)));
      return { status: 204 };
    },
  },
];
