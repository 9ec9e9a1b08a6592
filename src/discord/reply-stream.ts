import type { REST } from '@discordjs/rest';
import { Routes, type APIMessage, type APIActionRowComponent, type APIComponentInMessageActionRow } from 'discord.js';
import type { ReplyInfo, ReplySink, Speaker } from '../chat/reply-sink.js';
import type { Logger } from '../logger.js';
import { MESSAGE_LIMIT, splitMessage } from './split-message.js';
import { isDiscordError, isUnknownWebhook, webhookUsername, type WebhookCache } from './webhooks.js';

type Row = APIActionRowComponent<APIComponentInMessageActionRow>;

export interface ReplyStreamOptions {
  rest: REST;
  /** Undefined where webhooks do not exist (DMs): plain bot messages then. */
  webhooks?: WebhookCache;
  /** The channel or thread the reply appears in. */
  channelId: string;
  /** For a thread: its parent channel, whose webhook posts into the thread. */
  parentChannelId?: string;
  speaker: Speaker;
  /** The speaker's avatar as a link that works now (Discord's signed links expire); default: as stored. */
  avatarUrl?: (speaker: Speaker) => Promise<string | undefined>;
  logger: Logger;
  /** Buttons under the finished reply (regenerate, swipe, …). */
  components?: (info: ReplyInfo) => Row[];
  /** Called when the bot cannot use webhooks here; returns true the first time per channel. */
  onNoWebhook?: (channelId: string) => boolean;
  /** Edits of one message are at least this far apart (Discord tolerates about one per second). */
  editIntervalMs?: number;
  /** The messages of a reply being rewritten (regenerate, swipe, continue): edited instead of posted. */
  messageIds?: string[];
  /** Hears every message id the reply shows, each time a new message is posted. */
  onPosted?: (messageIds: string[]) => Promise<void>;
  /** A line under the finished reply (model and tokens), kept whole in its last message. */
  footer?: (info: ReplyInfo) => string | undefined;
}

const CURSOR = ' ▌';
/** Discord's code for a message that does not exist (any more). */
const UNKNOWN_MESSAGE = 10008;

/**
 * A character's reply on Discord: posted through the channel's webhook with
 * the character's name and avatar, edited as tokens stream in (throttled),
 * split over several messages past 2000 characters, and finished with
 * buttons, or with a visible error. Falls back to plain bot messages with the
 * name in bold when the bot may not manage webhooks.
 */
export class DiscordReplyStream implements ReplySink {
  readonly #options: ReplyStreamOptions;
  #shown: { id: string; content: string }[];
  #latest = '';
  #timer: NodeJS.Timeout | undefined;
  #lastFlush = 0;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #useWebhook: boolean | undefined;

  constructor(options: ReplyStreamOptions) {
    this.#options = options;
    this.#shown = (options.messageIds ?? []).map((id) => ({ id, content: '' }));
  }

  async typing(): Promise<void> {
    await this.#options.rest.post(Routes.channelTyping(this.#options.channelId)).catch((error: unknown) => {
      this.#options.logger.debug({ err: error }, 'typing indicator failed');
    });
  }

  update(text: string): void {
    if (this.#closed) return;
    this.#latest = text;
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastFlush + (this.#options.editIntervalMs ?? 1000) - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#enqueue(() => this.#render(this.#latest + CURSOR, []));
    }, wait);
  }

  async finish(text: string, info: ReplyInfo): Promise<{ messageIds: string[] }> {
    this.#close();
    const components = this.#options.components?.(info) ?? [];
    const footer = this.#options.footer?.(info);
    this.#enqueue(() => this.#render(text, components, true, footer));
    await this.#chain;
    return { messageIds: this.#shown.map((message) => message.id) };
  }

  async fail(message: string): Promise<void> {
    this.#close();
    const text = this.#latest ? `${this.#latest}\n\n⚠️ ${message}` : `⚠️ ${message}`;
    this.#enqueue(() => this.#render(text, [], true));
    await this.#chain;
  }

  #close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #enqueue(work: () => Promise<void>): void {
    this.#chain = this.#chain.then(work).catch((error: unknown) => {
      this.#options.logger.warn({ err: error }, 'could not update the reply on Discord');
    });
  }

  /** Shows `text` across as many messages as it needs; the last one carries the footer and the buttons. */
  async #render(text: string, components: Row[], final = false, footer?: string): Promise<void> {
    this.#lastFlush = Date.now();
    const webhook = await this.#webhookAllowed();
    const prefix = webhook ? '' : `**${this.#options.speaker.name}**\n`;
    const parts = withFooter(splitMessage(text, MESSAGE_LIMIT - prefix.length), footer, MESSAGE_LIMIT - prefix.length).map(
      (part) => prefix + part,
    );
    for (const [index, content] of parts.entries()) {
      const last = index === parts.length - 1;
      const rows = final && last ? components : [];
      const shown = this.#shown[index];
      if (!shown) {
        this.#shown.push({ id: await this.#post(content, rows), content });
        await this.#posted();
      } else if (shown.content !== content || rows.length > 0 || (final && last)) {
        try {
          await this.#edit(shown.id, content, rows);
        } catch (error) {
          // Someone deleted the message being rewritten (an older reply, or one a dead worker left): post it anew.
          if (!isDiscordError(error, UNKNOWN_MESSAGE)) throw error;
          shown.id = await this.#post(content, rows);
          await this.#posted();
        }
        shown.content = content;
      }
    }
    if (final && this.#shown.length > parts.length) {
      for (const extra of this.#shown.splice(parts.length)) await this.#delete(extra.id);
    }
  }

  async #posted(): Promise<void> {
    await this.#options.onPosted?.(this.#shown.map((message) => message.id)).catch((error: unknown) => {
      this.#options.logger.warn({ err: error }, 'could not note the posted reply');
    });
  }

  async #delete(messageId: string): Promise<void> {
    if (!(await this.#webhookAllowed())) {
      await this.#options.rest.delete(Routes.channelMessage(this.#options.channelId, messageId));
      return;
    }
    await this.#withWebhook((webhook) =>
      this.#options.rest.delete(Routes.webhookMessage(webhook.id, webhook.token, messageId), {
        query: this.#query(false, false),
        auth: false,
      }),
    );
  }

  async #webhookAllowed(): Promise<boolean> {
    if (this.#useWebhook === undefined) {
      const channel = this.#options.parentChannelId ?? this.#options.channelId;
      if (!this.#options.webhooks) return (this.#useWebhook = false);
      this.#useWebhook = (await this.#options.webhooks.get(channel)) !== null;
      if (!this.#useWebhook && this.#options.onNoWebhook?.(channel)) {
        await this.#options.rest.post(Routes.channelMessages(this.#options.channelId), {
          body: {
            content:
              'I cannot manage webhooks in this channel, so characters will speak through my own messages. ' +
              'Give me the **Manage Webhooks** permission here to let them use their own names and avatars.',
          },
        });
      }
    }
    return this.#useWebhook;
  }

  async #post(content: string, components: Row[]): Promise<string> {
    if (!(await this.#webhookAllowed())) {
      const message = (await this.#options.rest.post(Routes.channelMessages(this.#options.channelId), {
        body: { content, components, allowed_mentions: { parse: [] } },
      })) as APIMessage;
      return message.id;
    }
    return this.#withWebhook(async (webhook) => {
      const message = (await this.#options.rest.post(Routes.webhook(webhook.id, webhook.token), {
        query: this.#query(components.length > 0, true),
        body: {
          content,
          username: webhookUsername(this.#options.speaker.name),
          avatar_url: await this.#avatarUrl(),
          components,
          allowed_mentions: { parse: [] },
        },
        auth: false,
      })) as APIMessage;
      return message.id;
    });
  }

  async #avatarUrl(): Promise<string | undefined> {
    const { speaker } = this.#options;
    return this.#options.avatarUrl ? this.#options.avatarUrl(speaker) : (speaker.avatarUrl ?? undefined);
  }

  async #edit(messageId: string, content: string, components: Row[]): Promise<void> {
    if (!(await this.#webhookAllowed())) {
      await this.#options.rest.patch(Routes.channelMessage(this.#options.channelId, messageId), {
        body: { content, components },
      });
      return;
    }
    await this.#withWebhook((webhook) =>
      this.#options.rest.patch(Routes.webhookMessage(webhook.id, webhook.token, messageId), {
        query: this.#query(components.length > 0, false),
        body: { content, components },
        auth: false,
      }),
    );
  }

  /** Runs a webhook call; if Discord says the webhook is gone, makes a new one and tries once more. */
  async #withWebhook<T>(call: (webhook: { id: string; token: string }) => Promise<T>): Promise<T> {
    const channel = this.#options.parentChannelId ?? this.#options.channelId;
    const webhooks = this.#options.webhooks!;
    const webhook = await webhooks.get(channel);
    if (!webhook) throw new Error('webhook disappeared');
    try {
      return await call(webhook);
    } catch (error) {
      if (!isUnknownWebhook(error)) throw error;
      webhooks.forget(channel);
      const fresh = await webhooks.get(channel);
      if (!fresh) throw error;
      return call(fresh);
    }
  }

  #query(withComponents: boolean, wait: boolean): URLSearchParams {
    const query = new URLSearchParams();
    if (wait) query.set('wait', 'true');
    if (this.#options.parentChannelId) query.set('thread_id', this.#options.channelId);
    if (withComponents) query.set('with_components', 'true');
    return query;
  }
}

/** The footer goes under the last part when it fits there, else in a part of its own: never cut, never past the limit. */
function withFooter(parts: string[], footer: string | undefined, limit: number): string[] {
  if (!footer) return parts;
  const last = parts.at(-1) ?? '';
  if (!last) return [...parts.slice(0, -1), footer];
  if (last.length + 1 + footer.length <= limit) return [...parts.slice(0, -1), `${last}\n${footer}`];
  return [...parts, footer];
}
