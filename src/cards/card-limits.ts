/**
 * Limits that keep a hostile card from costing memory or database space. The character's own fields have theirs
 * in CHARACTER_LIMITS (src/characters/character-input.ts), the same for cards and forms.
 */
export const CARD_LIMITS = {
  fileBytes: 20 * 1024 * 1024,
  loreEntries: 1000,
  loreEntryChars: 64 * 1024,
  loreTotal: 2 * 1024 * 1024,
};
