import type { SinkFactory } from '../chat/responder.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ChannelRef } from '../chat/conversations.js';
import type { DiscordContext } from './command.js';
import { replyFooter } from './render/reply-footer.js';
import { DiscordReplyStream } from './reply-stream.js';

/**
 * Sinks for replies in one channel: through the channel's webhook (the parent
 * channel's, for a thread), or plain messages in DMs.
 */
export function replySinks(
  context: DiscordContext & { logger: Logger; config?: Config },
  channel: ChannelRef & { parentId?: string },
  options: { buttons?: boolean; onNoWebhook?: (channelId: string) => boolean } = {},
): SinkFactory {
  return (speaker, messageIds, onPosted) =>
    new DiscordReplyStream({
      rest: context.rest,
      webhooks: channel.kind === 'dm' ? undefined : context.webhooks,
      channelId: channel.id,
      parentChannelId: channel.parentId,
      speaker,
      avatarUrl: (who) => context.attachmentUrls.forCharacter(who.characterId, who.avatarUrl),
      logger: context.logger,
      components: options.buttons === false ? undefined : context.replyButtons,
      onNoWebhook: options.onNoWebhook,
      messageIds,
      onPosted,
      footer: context.config?.usage.replyFooter ? replyFooter : undefined,
    });
}
