import type { EntityManager } from '@mikro-orm/postgresql';
import { Conversation, type ICharacter, type IConversation } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import type { Actor } from '../core/identity.js';

export type ReplyMode = 'all' | 'mentions';

/** Per-conversation settings kept in conversations.settings. */
export interface ConversationSettings {
  /** all: the character answers every message; mentions: only when mentioned or replied to. */
  replyMode?: ReplyMode;
}

export interface ChannelRef {
  id: string;
  kind: 'channel' | 'thread' | 'dm';
  name?: string;
}

/** Binds a character to a channel, thread or DM; the conversation (and its history) is kept per channel. */
export async function bindCharacter(
  em: EntityManager,
  actor: Actor,
  channel: ChannelRef,
  character: ICharacter,
  settings: ConversationSettings = {},
): Promise<IConversation> {
  let conversation = await em.findOne(Conversation, { discordChannelId: channel.id }, { populate: ['character'] });
  if (conversation && (conversation.settings as { scene?: unknown }).scene) {
    throw new UserError('This thread is a scene. Use /scene add to bring another character in.');
  }
  if (!conversation) {
    conversation = em.create(Conversation, {
      discordChannelId: channel.id,
      kind: channel.kind,
      guild: actor.guild ?? null,
      user: actor.user,
      title: channel.name?.slice(0, 255) ?? null,
    });
  }
  conversation.character = character;
  conversation.settings = { ...conversation.settings, ...settings, replyMode: settings.replyMode ?? replyModeOf(conversation) };
  await em.flush();
  return conversation as IConversation;
}

/** The bound conversation of a channel, with its character, or null. */
export async function findBinding(em: EntityManager, channelId: string): Promise<IConversation | null> {
  const conversation = await em.findOne(
    Conversation,
    { discordChannelId: channelId, character: { $ne: null } },
    { populate: ['character'] },
  );
  return conversation as IConversation | null;
}

/** Unbinds the channel's character; the history stays for when a character is bound again. */
export async function unbindCharacter(em: EntityManager, channelId: string): Promise<ICharacter> {
  const conversation = await findBinding(em, channelId);
  if (!conversation?.character) throw new UserError('No character is bound to this channel.');
  const character = conversation.character;
  conversation.character = null;
  await em.flush();
  return character;
}

export function replyModeOf(conversation: Pick<IConversation, 'settings' | 'kind'>): ReplyMode {
  const mode = (conversation.settings as ConversationSettings).replyMode;
  if (mode === 'all' || mode === 'mentions') return mode;
  return conversation.kind === 'channel' ? 'mentions' : 'all';
}

/**
 * Keeps whether every member of the server can read the conversation's
 * channel, as the adapter saw it on the latest message (a channel's
 * permissions can change at any time). Recall reads it.
 */
export async function noteVisibility(em: EntityManager, conversation: IConversation, isPublic: boolean | undefined): Promise<void> {
  if (isPublic === undefined || conversation.isPublic === isPublic) return;
  await em.execute('update conversations set is_public = ? where id = ?', [isPublic, conversation.id], 'run');
  conversation.isPublic = isPublic;
}
