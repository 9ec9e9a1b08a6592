import { UserError } from '../errors.js';
import type { Place } from './access.js';
import type { GuildAccess } from './guild-settings.js';

/** The operator's rule for DMs (ALLOW_NSFW_DMS). */
export interface ContentPolicy {
  allowNsfwDms: boolean;
}

export interface CharacterRef {
  id: string;
  name: string;
  isNsfw: boolean;
}

/** Whether NSFW content may run here: age-restricted channels (threads by their parent), DMs only if the operator allows it. */
export function nsfwAllowed(place: Place, policy: ContentPolicy): boolean {
  return place.kind === 'dm' ? policy.allowNsfwDms : place.nsfw;
}

function nsfwRefusal(what: string, place: Place): string {
  return place.kind === 'dm'
    ? `${what} is marked NSFW, and this bot does not run NSFW content in direct messages.`
    : `${what} is marked NSFW and only runs in age-restricted channels. A server admin can mark a channel age-restricted in its settings.`;
}

export function bannedRefusal(name: string): string {
  return `${name} is banned from this server by its admins.`;
}

/**
 * Why this character may not run here (banned in the server, or NSFW in a
 * place that does not allow it), or null when it may.
 */
export function characterBlock(
  character: CharacterRef,
  place: Place,
  access: GuildAccess | undefined,
  policy: ContentPolicy,
): string | null {
  if (access?.bannedCharacters.includes(character.id)) return bannedRefusal(character.name);
  if (character.isNsfw && !nsfwAllowed(place, policy)) return nsfwRefusal(character.name, place);
  return null;
}

export function assertCharacterAllowed(
  character: CharacterRef,
  place: Place,
  access: GuildAccess | undefined,
  policy: ContentPolicy,
): void {
  const reason = characterBlock(character, place, access, policy);
  if (reason) throw new UserError(reason);
}

/** A scene is NSFW when started so, or when any of its characters is. */
export function sceneBlock(
  scene: { nsfw: boolean; characters: CharacterRef[] },
  place: Place,
  access: GuildAccess | undefined,
  policy: ContentPolicy,
): string | null {
  for (const character of scene.characters) {
    if (access?.bannedCharacters.includes(character.id)) return bannedRefusal(character.name);
  }
  if (nsfwAllowed(place, policy)) return null;
  if (scene.nsfw) return nsfwRefusal('This scene', place);
  const nsfwCharacter = scene.characters.find((character) => character.isNsfw);
  return nsfwCharacter ? nsfwRefusal(nsfwCharacter.name, place) : null;
}
