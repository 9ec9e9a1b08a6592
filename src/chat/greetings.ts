import { cardData, cardExtensions } from '../cards/card-json.js';
import type { ICharacter } from '../db/entities/index.js';

const texts = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string' && item.trim() !== '') : [];

/**
 * The greetings a character opens with, offered as ◀ ▶ versions of its first message (the Character Card V2 spec:
 * alternate greetings MUST be offered as swipes of the greeting).
 * - Alone with someone (a bound channel): `first_mes`, then `alternate_greetings` (ST's script.js getFirstMessage
 *   makes them the first message's swipes). `group_only_greetings` are never used there (V3 spec: group chats only).
 * - In a scene (ST's group chat): the card's `group_only_greetings` when it has any (V3; cards of ST's Group
 *   Greetings extension keep them in `extensions.group_greetings`), which replace the others as that extension does
 *   through group-chats.js getFirstCharacterMessage; else the same greetings as alone.
 */
export function greetingsOf(
  character: Pick<ICharacter, 'greeting' | 'alternateGreetings' | 'card'>,
  options: { group: boolean },
): string[] {
  if (options.group) {
    const v3 = texts(cardData(character).group_only_greetings);
    const groupOnly = v3.length ? v3 : texts(cardExtensions(character).group_greetings);
    if (groupOnly.length) return groupOnly;
  }
  return texts([character.greeting, ...character.alternateGreetings]);
}
