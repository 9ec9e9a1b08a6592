import type { Client, Message, PartialMessage } from 'discord.js';
import { deleteUserMessage, editUserMessage } from '../chat/history.js';
import { retryOnLostConnection } from '../db/database.js';
import { channelAllowed, DM_REFUSAL } from '../permissions/access.js';
import { loadAccess } from '../permissions/guild-settings.js';
import { blockedHere } from '../permissions/place-check.js';
import { ChannelOrder } from './channel-order.js';
import { authorOf, channelRefOf, isConversationChannel, isPublicChannel, placeOf } from './actor.js';
import type { CommandContext } from './command.js';
import { nsfwAllowed } from '../permissions/content.js';
import { personaContext } from '../personas/choices.js';
import { findProxiedMessage, isProxiedMessage } from '../personas/proxied.js';
import { deleteProxiedMessage } from './proxied-messages.js';
import { speakAs, type Spoken } from './proxy.js';
import { replySinks } from './reply-sinks.js';
import type { ImageRef } from '../images/fetch-images.js';

const DELETE_EMOJI = '❌';

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
  const notices = { replies: new Notices(), proxy: new Notices() };
  const order = new ChannelOrder();
  client.on('messageCreate', (message) => {
    const turn = order.take(message.channelId);
    void retryOnLostConnection(() => onMessage(message, deps, warnedNoWebhook, notices, turn))
      .catch((error: unknown) => context.logger.error({ err: error, message: message.id }, 'message handling failed'))
      .finally(turn.done);
  });
  client.on('messageUpdate', (_old, message) => {
    if (message.author?.bot || message.content == null) return;
    const content = message.content;
    void retryOnLostConnection(() => editUserMessage(orm.em.fork(), message.id, content, context.queue)).catch((error: unknown) =>
      context.logger.warn({ err: error }, 'could not update an edited message'),
    );
  });
  client.on('messageReactionAdd', (reaction, user) => {
    if (user.bot || reaction.emoji.name !== DELETE_EMOJI) return;
    const target = reaction.message;
    void retryOnLostConnection(async () => {
      const proxied = await findProxiedMessage(orm.em.fork(), target.id);
      // Only its author's ❌ deletes a persona's message; anyone else's is just a reaction.
      if (proxied?.authorDiscordId !== user.id) return;
      await deleteProxiedMessage(context, target.channel, target.channelId, target.id);
    }).catch((error: unknown) => context.logger.warn({ err: error }, 'could not delete a persona’s message'));
  });
  client.on('messageDelete', (message: Message | PartialMessage) => {
    void retryOnLostConnection(() => deleteUserMessage(orm.em.fork(), message.id)).catch((error: unknown) =>
      context.logger.warn({ err: error }, 'could not remove a deleted message'),
    );
  });
}

/**
 * Plain notices the bot gives instead of answering (a character that may not
 * run here, DMs turned off): once per channel and reason, per process, so
 * nobody is spammed. A channel where it may answer again is forgotten.
 */
export class Notices {
  readonly #given = new Map<string, string>();

  async give(message: Message, text: string): Promise<void> {
    if (this.#given.get(message.channelId) === text) return;
    this.#given.set(message.channelId, text);
    if (this.#given.size > 10_000) this.#given.delete(this.#given.keys().next().value!);
    if (message.channel.isSendable()) await message.channel.send({ content: text, allowedMentions: { parse: [] } });
  }

  clear(channelId: string): void {
    this.#given.delete(channelId);
  }
}

async function onMessage(
  message: Message,
  deps: MessageRoutingDeps,
  warnedNoWebhook: Set<string>,
  notices: { replies: Notices; proxy: Notices },
  turn: { ready: Promise<void>; done: () => void },
): Promise<void> {
  if (message.author.bot || message.webhookId || message.system) return;
  // The channel's messages are reposted and stored in the order they were written.
  await turn.ready;
  if ((!message.content.trim() && !message.attachments.size && !message.embeds.length) || !isConversationChannel(message.channel)) return;
  const { client, context } = deps;
  const em = context.database.orm.em.fork();
  const place = placeOf(message.channel, message.channelId, message.guildId);
  if (place.kind === 'dm' && !context.config.dms.allow) return notices.replies.give(message, DM_REFUSAL);
  const access = message.guildId ? await loadAccess(em, message.guildId) : undefined;
  // A channel the server's admins closed: the bot is not there at all.
  if (access && !channelAllowed(access, place)) return;
  const channel = channelRefOf(message.channel, message.channelId);
  // Who the person speaks as here; a message in a persona's proxy tags (or with autoproxy on) is reposted as it.
  const policy = { allowNsfwDms: context.config.dms.allowNsfw };
  const personas = await personaContext(em, message.author.id, {
    channelIds: [channel.id, ...(channel.parentId ? [channel.parentId] : [])],
    guildId: message.guildId ?? undefined,
    nsfwAllowed: nsfwAllowed(place, policy),
  });
  const spoken = await speakAs(context, message, personas, notices.proxy);
  const images = imageRefsOf(message, spoken.files);
  if (!spoken.content.trim() && !images.length) return;
  const blocked = await blockedHere(em, place, access, policy);
  if (blocked) return notices.replies.give(message, `${blocked} It does not answer here.`);
  notices.replies.clear(message.channelId);
  const botId = client.user?.id;
  const repliedTo = message.reference?.messageId ? await message.fetchReference().catch(() => null) : null;
  // A reply to a character is addressed to it; a reply to someone's persona is not.
  const addressed =
    (botId !== undefined && message.mentions.users.has(botId)) ||
    Boolean(repliedTo && (repliedTo.author.id === botId || (repliedTo.webhookId && !(await isProxiedMessage(em, repliedTo.id)))));
  const logger = context.logger.child({ channel: channel.id, message: message.id });
  const incoming = {
    channelId: channel.id,
    discordMessageId: spoken.discordMessageId,
    author: authorOf(message),
    guild: message.guildId ? { id: message.guildId, name: message.guild?.name } : undefined,
    content: spoken.content,
    addressed,
    channelPublic: isPublicChannel(message.channel),
    ...(spoken.persona ? { persona: spoken.persona } : {}),
    ...(spoken.proxiedFrom ? { proxiedFrom: spoken.proxiedFrom } : {}),
    images,
    stored: turn.done,
    notice: async (text: string) => {
      await message.reply({ content: text, allowedMentions: { parse: [], repliedUser: false } });
    },
  };
  const sinks = replySinks({ ...context, logger }, channel, {
    onNoWebhook: (id) => !warnedNoWebhook.has(id) && Boolean(warnedNoWebhook.add(id)),
  });
  // Only threads hold scenes; everything else goes straight to the channel responder.
  if (channel.kind === 'thread' && (await context.scenes.onMessage(incoming, sinks)) !== 'not-scene') return;
  await context.responder.onMessage(incoming, sinks);
}

/**
 * The pictures of a message: its attachments (every file: what is no picture
 * is told so) and the images of its embeds (a pasted link to a picture, a GIF
 * from the picker), which are looked at quietly.
 */
function imageRefsOf(message: Message, reposted?: Spoken['files']): ImageRef[] {
  const files = reposted ?? [...message.attachments.values()];
  const refs: ImageRef[] = files.map((file) => ({ url: file.url, name: file.name, size: file.size, uploaded: true }));
  for (const embed of message.embeds) {
    const url = embed.image?.url ?? (embed.data.type === 'image' || embed.data.type === 'gifv' ? embed.thumbnail?.url : undefined);
    if (url) refs.push({ url, name: url.split('?')[0]!.split('/').pop() || 'image', uploaded: false });
  }
  return refs;
}
