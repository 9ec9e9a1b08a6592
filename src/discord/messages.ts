import type { Client, Message, PartialMessage } from 'discord.js';
import { deleteUserMessage, editUserMessage } from '../chat/history.js';
import { authorOf, channelRefOf, isConversationChannel } from './actor.js';
import type { CommandContext } from './command.js';
import { replySinks } from './reply-sinks.js';

export interface MessageRoutingDeps {
  client: Client;
  context: CommandContext;
}

/**
 * Routes people's messages in bound channels to the responder, and keeps the
 * stored history in step with edits and deletions. Bots and webhooks
 * (including the characters themselves) are ignored.
 */
export function routeMessages(deps: MessageRoutingDeps): void {
  const { client, context } = deps;
  const orm = context.database.orm;
  const warnedNoWebhook = new Set<string>();
  client.on('messageCreate', (message) => {
    void onMessage(message, deps, warnedNoWebhook).catch((error: unknown) =>
      context.logger.error({ err: error, message: message.id }, 'message handling failed'),
    );
  });
  client.on('messageUpdate', (_old, message) => {
    if (message.author?.bot || message.content == null) return;
    void editUserMessage(orm.em.fork(), message.id, message.content).catch((error: unknown) =>
      context.logger.warn({ err: error }, 'could not update an edited message'),
    );
  });
  client.on('messageDelete', (message: Message | PartialMessage) => {
    void deleteUserMessage(orm.em.fork(), message.id).catch((error: unknown) =>
      context.logger.warn({ err: error }, 'could not remove a deleted message'),
    );
  });
}

async function onMessage(message: Message, deps: MessageRoutingDeps, warnedNoWebhook: Set<string>): Promise<void> {
  if (message.author.bot || message.webhookId || message.system) return;
  if (!message.content.trim() || !isConversationChannel(message.channel)) return;
  const { client, context } = deps;
  const botId = client.user?.id;
  const repliedTo = message.reference?.messageId
    ? await message.fetchReference().catch(() => null)
    : null;
  const addressed =
    (botId !== undefined && message.mentions.users.has(botId)) ||
    Boolean(repliedTo && (repliedTo.webhookId || repliedTo.author.id === botId));
  const channel = channelRefOf(message.channel, message.channelId);
  const logger = context.logger.child({ channel: channel.id, message: message.id });
  const incoming = {
    channelId: channel.id,
    discordMessageId: message.id,
    author: authorOf(message),
    guild: message.guildId ? { id: message.guildId, name: message.guild?.name } : undefined,
    content: message.cleanContent,
    addressed,
  };
  const sinks = replySinks({ ...context, logger }, channel, {
    onNoWebhook: (id) => !warnedNoWebhook.has(id) && Boolean(warnedNoWebhook.add(id)),
  });
  // Only threads hold scenes; everything else goes straight to the channel responder.
  if (channel.kind === 'thread' && (await context.scenes.onMessage(incoming, sinks)) !== 'not-scene') return;
  await context.responder.onMessage(incoming, sinks);
}
