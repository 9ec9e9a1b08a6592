import type { REST } from '@discordjs/rest';
import { Routes, type APIWebhook } from 'discord.js';
import type { Logger } from '../logger.js';
import type { Locks } from '../queue/lock.js';

const WEBHOOK_NAME = 'DreamChat';
const UNKNOWN_WEBHOOK = 10015;
const MISSING_PERMISSIONS = 50013;
const MISSING_ACCESS = 50001;

export interface ChannelWebhook {
  id: string;
  token: string;
}

/**
 * One webhook per channel, shared by every character (Discord allows 15 per
 * channel). Found or created once per channel under a lock (across processes
 * when `locks` is shared through Redis), cached, and recreated once when
 * Discord says it is gone.
 */
export class WebhookCache {
  readonly #rest: REST;
  readonly #applicationId: () => string | undefined;
  readonly #logger: Logger;
  readonly #locks?: Locks;
  readonly #webhooks = new Map<string, Promise<ChannelWebhook | null>>();

  /** `applicationId` tells our webhooks from others'; it is known once the client is logged in. */
  constructor(options: { rest: REST; applicationId: () => string | undefined; logger: Logger; locks?: Locks }) {
    this.#rest = options.rest;
    this.#applicationId = options.applicationId;
    this.#logger = options.logger;
    this.#locks = options.locks;
  }

  /** The channel's webhook, or null when the bot may not manage webhooks there. */
  get(channelId: string): Promise<ChannelWebhook | null> {
    let webhook = this.#webhooks.get(channelId);
    if (!webhook) {
      webhook = this.#findOrCreate(channelId).catch((error: unknown) => {
        this.#webhooks.delete(channelId);
        throw error;
      });
      this.#webhooks.set(channelId, webhook);
    }
    return webhook;
  }

  /** Forget a webhook Discord no longer knows, so the next get() makes a new one. */
  forget(channelId: string): void {
    this.#webhooks.delete(channelId);
  }

  async #findOrCreate(channelId: string): Promise<ChannelWebhook | null> {
    if (!this.#locks) return this.#findOrCreateNow(channelId);
    // Another process may be creating this channel's webhook: wait for it, then find what it made.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const release = await this.#locks.tryAcquire(`webhook:${channelId}`, 15_000);
      if (release) {
        try {
          return await this.#findOrCreateNow(channelId);
        } finally {
          await release();
        }
      }
      if (Date.now() > deadline) return this.#findOrCreateNow(channelId);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async #findOrCreateNow(channelId: string): Promise<ChannelWebhook | null> {
    try {
      const existing = (await this.#rest.get(Routes.channelWebhooks(channelId))) as APIWebhook[];
      const ours = existing.find(
        (webhook) => webhook.application_id === this.#applicationId() && webhook.token && webhook.name === WEBHOOK_NAME,
      );
      if (ours?.token) return { id: ours.id, token: ours.token };
      const created = (await this.#rest.post(Routes.channelWebhooks(channelId), {
        body: { name: WEBHOOK_NAME },
        reason: 'DreamChat posts characters’ replies with their names and avatars',
      })) as APIWebhook;
      this.#logger.info({ channel: channelId, webhook: created.id }, 'webhook created');
      return { id: created.id, token: created.token! };
    } catch (error) {
      if (isDiscordError(error, MISSING_PERMISSIONS) || isDiscordError(error, MISSING_ACCESS)) return null;
      throw error;
    }
  }
}

/**
 * Whether `error` is Discord's API error with this JSON error code. Checked by
 * shape, not `instanceof`: discord.js requires the CommonJS build of
 * @discordjs/rest while ESM code imports its ES build, two distinct classes.
 */
export function isDiscordError(error: unknown, code: number): boolean {
  return error instanceof Error && error.name.startsWith('DiscordAPIError') && (error as { code?: unknown }).code === code;
}

export function isUnknownWebhook(error: unknown): boolean {
  return isDiscordError(error, UNKNOWN_WEBHOOK);
}

/**
 * Discord refuses webhook names that contain "discord" or "clyde", are longer
 * than 80 characters, or are a single character. Adjust the name so the post
 * goes through, as PluralKit does: a zero-width joiner breaks the banned words.
 */
export function webhookUsername(name: string): string {
  let username = name.replace(/\s+/g, ' ').trim();
  username = username.replace(/(d)(iscord)/gi, '$1\u200d$2').replace(/(c)(lyde)/gi, '$1\u200d$2');
  if (username.length > 80) username = `${username.slice(0, 79)}…`;
  if (username.length < 2) username = `${username || '?'}\u17b5`;
  return username;
}
