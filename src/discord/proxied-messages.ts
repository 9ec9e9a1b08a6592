import { Routes, type Channel } from 'discord.js';
import { deleteUserMessage, editUserMessage } from '../chat/history.js';
import { UserError } from '../errors.js';
import { findProxiedMessage, type ProxiedMessage } from '../personas/proxied.js';
import type { CommandContext } from './command.js';

/** The stored repost behind `messageId`, when `discordUserId` wrote it; a plain refusal otherwise. */
export async function ownProxiedMessage(context: CommandContext, messageId: string, discordUserId: string): Promise<ProxiedMessage> {
  const proxied = await findProxiedMessage(context.database.orm.em.fork(), messageId);
  if (!proxied) throw new UserError('That is not a message reposted as a persona (or it is no longer kept).');
  if (proxied.authorDiscordId !== discordUserId) throw new UserError('Only the person who wrote it can change a persona’s message.');
  return proxied;
}

/** Rewrites a persona's message through the webhook that posted it; the history follows, and the memories quoting it. */
export async function editProxiedMessage(
  context: CommandContext,
  channel: Channel | null,
  channelId: string,
  messageId: string,
  content: string,
): Promise<void> {
  await withChannelWebhook(context, channel, channelId, (route, query) =>
    context.rest.patch(route(messageId), { query, body: { content, allowed_mentions: { parse: [] } }, auth: false }),
  );
  await editUserMessage(context.database.orm.em.fork(), messageId, content, context.queue);
}

/** Deletes a persona's message through its webhook; it leaves the history, with every memory quoting it. */
export async function deleteProxiedMessage(
  context: CommandContext,
  channel: Channel | null,
  channelId: string,
  messageId: string,
): Promise<void> {
  await withChannelWebhook(context, channel, channelId, (route, query) => context.rest.delete(route(messageId), { query, auth: false }));
  await deleteUserMessage(context.database.orm.em.fork(), messageId);
}

async function withChannelWebhook(
  context: CommandContext,
  channel: Channel | null,
  channelId: string,
  call: (route: (messageId: string) => `/${string}`, query: URLSearchParams) => Promise<unknown>,
): Promise<void> {
  const parentId = channel?.isThread() ? channel.parentId : null;
  const webhook = await context.webhooks.get(parentId ?? channelId);
  if (!webhook) throw new UserError('I can no longer manage webhooks in this channel, so I cannot change that message.');
  const query = new URLSearchParams(parentId ? { thread_id: channelId } : {});
  await call((messageId) => Routes.webhookMessage(webhook.id, webhook.token, messageId), query);
}
