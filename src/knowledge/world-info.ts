import type { EntityManager } from '@mikro-orm/postgresql';
import { CARD_LIMITS } from '../cards/card-limits.js';
import { parseCard } from '../cards/parse-card.js';
import type { Actor } from '../core/identity.js';
import { CharacterKnowledge, type ICharacter } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import type { JobQueue } from '../queue/job-queue.js';
import { assertCanChangeKnowledge, createLoreItems } from './knowledge.js';
import { entriesOfBook, isObject, loreFromJson, worldInfoFile, type Json } from './lore-json.js';
import { LORE_LIMITS, loadLore } from './lore.js';
import type { LoreEntry } from './types.js';

/**
 * SillyTavern world-info files in and out of a character's lorebook: `/lore import` takes a world-info JSON
 * (`entries` keyed by uid, as ST saves it), a bare character_book, or a card (JSON, PNG or CHARX) whose embedded
 * book it reads; `/lore export` writes the lorebook back as a world-info file ST imports. Each entry keeps its JSON,
 * so what came from ST goes back with every field.
 */
export async function readLoreFile(buffer: Buffer): Promise<LoreEntry[]> {
  if (buffer.length > CARD_LIMITS.fileBytes) throw new UserError(`That file is larger than ${CARD_LIMITS.fileBytes / 1024 / 1024} MB.`);
  let json: unknown;
  try {
    json = JSON.parse(buffer.toString('utf8').replace(/^\uFEFF/, ''), (key, value: unknown) => (key === '__proto__' ? undefined : value));
  } catch {
    // Not JSON: a PNG or CHARX card, whose book the card reader finds (and refuses in plain words if it is none).
    return (await parseCard(buffer)).lorebook;
  }
  if (isObject(json) && (json.spec !== undefined || isObject(json.data))) return (await parseCard(buffer)).lorebook;
  const entries = isObject(json) ? entriesOfBook(json) : undefined;
  if (!entries) throw new UserError('That is not a world-info file: it has no entries. Export one from SillyTavern’s World Info panel.');
  return entries.map((entry) => loreFromJson(entry));
}

/** Adds the file's entries to the character's lorebook, in order, all kept (disabled ones stay off). */
export async function importLoreFile(
  em: EntityManager,
  queue: JobQueue,
  actor: Actor,
  character: ICharacter,
  entries: LoreEntry[],
): Promise<number> {
  assertCanChangeKnowledge(actor, character);
  if (entries.length === 0) throw new UserError('That file has no lore entries.');
  const longest = Math.max(...entries.map((entry) => entry.content.length));
  if (longest > CARD_LIMITS.loreEntryChars)
    throw new UserError(`An entry of that file is ${longest} characters long; the most kept is ${CARD_LIMITS.loreEntryChars}.`);
  const have = await em.count(CharacterKnowledge, { character: character.id, sourceType: 'manual' });
  if (have + entries.length > LORE_LIMITS.maxEntriesPerCharacter) {
    throw new UserError(
      `${character.name} has ${have} lore entries and the file ${entries.length}; the most a character keeps is ${LORE_LIMITS.maxEntriesPerCharacter}.`,
    );
  }
  return (await createLoreItems(em, queue, actor, character, entries)).length;
}

/** The character's lorebook as a SillyTavern world-info file. */
export async function exportLoreFile(em: EntityManager, character: ICharacter): Promise<Json> {
  const lore = await loadLore(em, character.id);
  if (lore.length === 0) throw new UserError(`${character.name} has no lore entries to export.`);
  return worldInfoFile(lore.map((item) => item.entry));
}
