import { REST } from '@discordjs/rest';
import { Routes, type APIApplication, type APIChannel } from 'discord.js';
import { REPLY_QUEUE, replyJobHandler } from '../chat/reply-jobs.js';
import type { SinkFactory } from '../chat/responder.js';
import type { IConversation } from '../db/entities/index.js';
import type { Deps } from '../deps.js';
import type { DiscordContext } from './command.js';
import { meteredJob } from '../metrics/jobs.js';
import { replySinks } from './reply-sinks.js';
import { replyButtons } from './render/reply-buttons.js';
import { AttachmentUrls, type PublicAvatars } from './attachment-urls.js';
import { WebhookCache } from './webhooks.js';

/**
 * Consumes the reply queue in this process, posting through Discord's REST
 * API only: the gateway process and every `npm run worker` can run it.
 */
export function startReplyWorkers(deps: Deps, discord: DiscordContext): void {
  deps.queue.process(
    REPLY_QUEUE,
    meteredJob(
      deps.metrics,
      REPLY_QUEUE,
      replyJobHandler({
        orm: deps.database.orm,
        responder: deps.responder,
        locks: deps.locks,
        lockTtlMs: deps.config.redis.lockMs,
        drafts: deps.drafts,
        queue: deps.queue,
        sinksFor: conversationSinks(deps, discord),
        logger: deps.logger,
      }),
    ),
    { concurrency: deps.config.replyConcurrency },
  );
}

/** Sinks for a stored conversation: its channel, and for a thread the parent channel's webhook (looked up once). */
function conversationSinks(deps: Pick<Deps, 'logger'>, discord: DiscordContext) {
  const parents = new Map<string, string | undefined>();
  return async (conversation: IConversation): Promise<SinkFactory> => {
    const id = conversation.discordChannelId;
    let parentId: string | undefined;
    if (conversation.kind === 'thread') {
      const settings = conversation.settings as { parentChannelId?: string; scene?: { parentChannelId?: string } };
      parentId = settings.scene?.parentChannelId ?? settings.parentChannelId;
      if (!parentId && !parents.has(id)) {
        const channel = (await discord.rest.get(Routes.channel(id))) as APIChannel & { parent_id?: string | null };
        parents.set(id, channel.parent_id ?? undefined);
      }
      parentId ??= parents.get(id);
    }
    return replySinks({ ...discord, logger: deps.logger.child({ channel: id }) }, { id, kind: conversation.kind, parentId });
  };
}

/**
 * Discord for a process without a gateway connection (`npm run worker`):
 * REST with the bot token, and the application id (to recognise the bot's
 * webhooks) asked once from Discord.
 */
export async function restOnlyDiscord(options: {
  token: string;
  apiUrl?: string;
  logger: Deps['logger'];
  locks?: Deps['locks'];
  /** PUBLIC_URL and DATA_DIR, to link to stored pictures. */
  publicAvatars?: PublicAvatars;
}): Promise<DiscordContext> {
  const rest = new REST(options.apiUrl ? { api: options.apiUrl } : {}).setToken(options.token);
  const application = (await rest.get(Routes.currentApplication())) as APIApplication;
  const webhooks = new WebhookCache({ rest, applicationId: () => application.id, logger: options.logger, locks: options.locks });
  return {
    rest,
    webhooks,
    attachmentUrls: new AttachmentUrls({ rest, logger: options.logger, publicAvatars: options.publicAvatars }),
    replyButtons,
  };
}
