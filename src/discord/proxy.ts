import type { RawFile } from '@discordjs/rest';
import { PermissionFlagsBits, Routes, type APIEmbed, type APIMessage, type Message } from 'discord.js';
import type { SpeakingPersona } from '../chat/responder.js';
import type { IPersona } from '../db/entities/index.js';
import { download } from '../knowledge/download.js';
import { guardedFetch } from '../llm/endpoint-guard.js';
import type { PersonaContext } from '../personas/choices.js';
import { hasConversation } from '../personas/proxied.js';
import { matchProxyTag } from '../personas/proxy-tags.js';
import type { CommandContext } from './command.js';
import type { Notices } from './messages.js';
import { isDiscordError, webhookUsername } from './webhooks.js';

/** Webhooks take 10 MiB of files per message in servers without boosts (Discord's upload limit). */
const FILES_LIMIT = 10 * 1024 * 1024;
const MISSING_PERMISSIONS = 50013;

/** A message to repost as a persona: who, and the text without its proxy tag (raw for Discord, clean for the history). */
export interface ProxyPlan {
  persona: IPersona;
  text: string;
  cleanText: string;
}

/** What the person meant: a persona's proxy tag, else autoproxy with the persona they wear here; undefined to leave it be. */
function proxyPlan(message: Message, personas: PersonaContext): ProxyPlan | undefined {
  const files = message.attachments.size > 0;
  for (const persona of personas.tagged) {
    const match = matchProxyTag(message.content, persona.proxyTags, files);
    if (!match) continue;
    const clean = matchProxyTag(message.cleanContent, persona.proxyTags, files);
    return { persona, text: match.text, cleanText: clean?.text ?? match.text };
  }
  // A backslash first, as in PluralKit and Tupperbox, sends one message as plain you.
  if (personas.autoproxy && personas.active && !message.content.startsWith('\\')) {
    return { persona: personas.active, text: message.content, cleanText: message.cleanContent };
  }
  return undefined;
}

/** Why a repost cannot happen here, for the one notice a channel gets; null when it can. */
export type ProxyRefusal = string | null;

/**
 * Reposts a message through the channel's webhook (the parent's, in a thread)
 * with the persona's name and avatar and the original's files, then deletes
 * the original. Returns the repost, or the reason it could not be done: the
 * original is then left as it is (and any repost taken back).
 */
async function repostAsPersona(
  context: CommandContext,
  message: Message,
  plan: ProxyPlan,
): Promise<{ posted: APIMessage } | { refusal: string }> {
  const channel = message.channel;
  if (!('guild' in channel) || channel.isDMBased()) return { refusal: 'Proxying works in servers only.' };
  const me = message.guild?.members.me;
  const permissions = me ? channel.permissionsFor(me) : null;
  if (permissions && !permissions.has(PermissionFlagsBits.ManageMessages)) return { refusal: NO_MANAGE_MESSAGES };
  const parentId = channel.isThread() ? channel.parentId : null;
  const webhook = await context.webhooks.get(parentId ?? channel.id);
  if (!webhook) return { refusal: NO_WEBHOOKS };
  const total = message.attachments.reduce((sum, file) => sum + file.size, 0);
  if (total > FILES_LIMIT)
    return { refusal: 'Your files are too large to repost through a webhook (10 MB in all), so the message stays as you wrote it.' };
  const fetcher = guardedFetch({ allowPrivate: context.config.secrets.allowPrivateEndpoints });
  const files: RawFile[] = [];
  for (const file of message.attachments.values()) {
    files.push({
      name: file.name,
      data: await download(file.url, { maxBytes: FILES_LIMIT, timeoutMs: 30_000 }, fetcher),
      contentType: file.contentType ?? undefined,
    });
  }
  const query = new URLSearchParams({ wait: 'true', ...(parentId ? { thread_id: channel.id } : {}) });
  const posted = (await context.rest.post(Routes.webhook(webhook.id, webhook.token), {
    query,
    body: {
      content: plan.text,
      username: webhookUsername(plan.persona.name),
      avatar_url: await context.attachmentUrls.usable(plan.persona.avatarUrl),
      embeds: await replyEmbed(message),
      allowed_mentions: { parse: [] },
    },
    files,
    auth: false,
  })) as APIMessage;
  try {
    await context.rest.delete(Routes.channelMessage(channel.id, message.id), { reason: `Reposted as ${plan.persona.name}` });
  } catch (error) {
    // Two copies would be worse than none reposted: take the repost back.
    await context.rest
      .delete(Routes.webhookMessage(webhook.id, webhook.token, posted.id), {
        query: parentId ? new URLSearchParams({ thread_id: channel.id }) : undefined,
        auth: false,
      })
      .catch(() => undefined);
    if (isDiscordError(error, MISSING_PERMISSIONS)) return { refusal: NO_MANAGE_MESSAGES };
    throw error;
  }
  return { posted };
}

/** Webhook messages cannot reply: a line quotes what the original replied to, as PluralKit does. */
async function replyEmbed(message: Message): Promise<APIEmbed[]> {
  if (!message.reference?.messageId) return [];
  const replied = await message.fetchReference().catch(() => null);
  if (!replied) return [];
  const excerpt = replied.cleanContent.length > 100 ? `${replied.cleanContent.slice(0, 99)}…` : replied.cleanContent;
  return [
    {
      description: `**[Reply to ${replied.member?.displayName ?? replied.author.displayName}](${replied.url})** ${excerpt}`.slice(0, 4000),
    },
  ];
}

const NO_MANAGE_MESSAGES =
  'I cannot repost messages as personas here: I need the **Manage Messages** permission to remove the original. Your message stays as you wrote it.';
const NO_WEBHOOKS =
  'I cannot repost messages as personas here: I need the **Manage Webhooks** permission. Your message stays as you wrote it.';

/** What a message says and as whom, once proxying is decided: the repost's id when it was reposted. */
export interface Spoken {
  content: string;
  discordMessageId: string;
  persona?: SpeakingPersona;
  proxiedFrom?: string;
  /** The repost's files (the original's links die with it). */
  files?: { url: string; name: string; size: number }[];
}

/**
 * Reposts the message as a persona when its tags or autoproxy say so (or
 * gives the one notice a channel gets when it cannot), and says how the
 * conversation should keep it: the person's own words as the persona they
 * wear here, or the repost's.
 */
export async function speakAs(context: CommandContext, message: Message, personas: PersonaContext, notices: Notices): Promise<Spoken> {
  const plan = proxyPlan(message, personas);
  // Reposts are kept in a conversation's history (that is how their author can edit and delete them): only where characters talk.
  if (plan && (await hasConversation(context.database.orm.em.fork(), message.channelId))) {
    const result = await repostAsPersona(context, message, plan);
    if ('posted' in result) {
      const files = result.posted.attachments.map((file) => ({ url: file.url, name: file.filename, size: file.size }));
      return {
        content: plan.cleanText,
        discordMessageId: result.posted.id,
        persona: speaking(plan.persona),
        proxiedFrom: message.id,
        files,
      };
    }
    await notices.give(message, result.refusal);
  }
  return {
    content: message.cleanContent,
    discordMessageId: message.id,
    ...(personas.active ? { persona: speaking(personas.active) } : {}),
  };
}

function speaking(persona: IPersona): SpeakingPersona {
  return { id: persona.id, name: persona.name, ...(persona.isNsfw ? { nsfw: true } : {}) };
}
