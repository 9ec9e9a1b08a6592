import type { EntityManager } from '@mikro-orm/postgresql';
import { findBinding } from '../chat/conversations.js';
import { UserError } from '../errors.js';
import { findScene } from '../scenes/scenes.js';
import type { Place } from './access.js';
import { characterBlock, sceneBlock, type ContentPolicy } from './content.js';
import type { GuildAccess } from './guild-settings.js';

/**
 * Why whoever would answer here (the thread's scene, or the character bound
 * to the channel or DM) may not, or null when it may or nobody is here.
 */
export async function blockedHere(
  em: EntityManager,
  place: Place,
  access: GuildAccess | undefined,
  policy: ContentPolicy,
): Promise<string | null> {
  if (place.kind === 'thread') {
    const scene = await findScene(em, place.channelId);
    if (scene && !scene.settings.endedAt) {
      const characters = scene.participants.filter((p) => p.isActive).map((p) => p.character);
      return sceneBlock({ nsfw: scene.settings.nsfw, characters }, place, access, policy);
    }
  }
  const binding = await findBinding(em, place.channelId);
  return binding?.character ? characterBlock(binding.character, place, access, policy) : null;
}

/**
 * For what makes a character speak other than a message (the buttons under
 * older replies, /scene next): the channel may have lost its age restriction,
 * or the character been banned, since. Throws the plain reason.
 */
export async function assertMaySpeakHere(
  em: EntityManager,
  place: Place,
  access: GuildAccess | undefined,
  policy: ContentPolicy,
): Promise<void> {
  const blocked = await blockedHere(em, place, access, policy);
  if (blocked) throw new UserError(`${blocked} It does not answer here.`);
}
