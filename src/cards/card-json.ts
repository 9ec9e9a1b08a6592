import type { ICharacter } from '../db/entities/index.js';
import type { LoreBookSettings } from '../knowledge/types.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** The `data` of the character's stored card, or {} for a character made with the form. */
export function cardData(character: Pick<ICharacter, 'card'>): Json {
  const data = character.card?.data;
  return isObject(data) ? data : {};
}

/** The card's `extensions` (every app's keys, as they came). */
export function cardExtensions(character: Pick<ICharacter, 'card'>): Json {
  const extensions = cardData(character).extensions;
  return isObject(extensions) ? extensions : {};
}

/** The lorebook's own settings, kept in the stored card's `character_book` (entries live in lore items). */
export function loreBookOf(character: Pick<ICharacter, 'card'>): LoreBookSettings {
  const book = cardData(character).character_book;
  if (!isObject(book)) return {};
  return {
    name: typeof book.name === 'string' ? book.name : undefined,
    description: typeof book.description === 'string' ? book.description : undefined,
    scanDepth: num(book.scan_depth),
    tokenBudget: num(book.token_budget),
    recursiveScanning: typeof book.recursive_scanning === 'boolean' ? book.recursive_scanning : undefined,
    extensions: isObject(book.extensions) ? book.extensions : undefined,
  };
}
