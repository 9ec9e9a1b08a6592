import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { CardFields } from '../cards/card-fields.js';
import type { CardSource } from '../cards/export-card.js';
import type { ParsedCard } from '../cards/parse-card.js';
import type { Actor } from '../core/identity.js';
import { Character, type ICharacter } from '../db/entities/index.js';
import { createLoreItems } from '../knowledge/knowledge.js';
import { loadLore } from '../knowledge/lore.js';
import type { JobQueue } from '../queue/job-queue.js';
import { createCharacter } from './characters.js';

export interface ImportedCard {
  character: ICharacter;
  /** Lore entries stored (disabled and empty ones included). */
  loreEntries: number;
  /** What was not kept, for the reply. */
  notes: string[];
}

/** The hash an import is known by, so the same file imported again can be recognised (the terminal reuses it). */
export function cardHash(file: Buffer): string {
  return createHash('sha256').update(file).digest('hex');
}

/**
 * Makes a character from a parsed card: its fields, the card's JSON as it came (for a lossless export), and one lore
 * item per lorebook entry, disabled and empty ones kept (disabled ones stay off, as in SillyTavern). Nothing is
 * stored when the card's fields are refused.
 */
export async function importCard(
  em: EntityManager,
  queue: JobQueue,
  actor: Actor,
  card: ParsedCard,
  options: { visibility?: 'private' | 'guild' | 'public'; avatarUrl?: string; fileHash?: string },
): Promise<ImportedCard> {
  const { fields } = card;
  const character = await createCharacter(em, actor, {
    name: fields.name,
    personalityPrompt: fields.description,
    personality: fields.personality || null,
    greeting: fields.greeting || null,
    exampleDialogue: fields.exampleDialogue || null,
    scenario: fields.scenario || null,
    systemPrompt: fields.systemPrompt || null,
    postHistoryInstructions: fields.postHistoryInstructions || null,
    creatorNotes: fields.creatorNotes || null,
    alternateGreetings: fields.alternateGreetings,
    tags: fields.tags,
    card: card.card,
    avatarUrl: options.avatarUrl ?? null,
    visibility: options.visibility ?? 'private',
    attributes: { card: { format: card.format, container: card.container, ...(options.fileHash ? { sha256: options.fileHash } : {}) } },
    ...(fields.talkativeness === undefined ? {} : { config: { talkativeness: fields.talkativeness } }),
  });
  const loreEntries = card.lorebook.length ? (await createLoreItems(em, queue, actor, character, card.lorebook)).length : 0;
  return { character, loreEntries, notes: card.notes };
}

/** The character's current values as card fields. */
function fieldsOf(character: ICharacter): CardFields {
  const fields: CardFields = {
    name: character.name,
    description: character.personalityPrompt,
    personality: character.personality ?? '',
    scenario: character.scenario ?? '',
    greeting: character.greeting ?? '',
    exampleDialogue: character.exampleDialogue ?? '',
    systemPrompt: character.systemPrompt ?? '',
    postHistoryInstructions: character.postHistoryInstructions ?? '',
    creatorNotes: character.creatorNotes ?? '',
    alternateGreetings: [...character.alternateGreetings],
    tags: [...character.tags],
  };
  if (character.config.talkativeness !== undefined) fields.talkativeness = character.config.talkativeness;
  return fields;
}

/** What /character export writes: the stored card, the character's current values and its lore entries, in order. */
export async function cardOf(em: EntityManager, character: ICharacter): Promise<CardSource> {
  const lore = await loadLore(em, character.id);
  return {
    card: character.card ?? null,
    fields: fieldsOf(character),
    creator: character.user.username ?? '',
    lorebook: lore.map((item) => item.entry),
  };
}

/** An earlier import of exactly this file by this person, if there is one. */
export async function findImport(em: EntityManager, actor: Actor, fileHash: string): Promise<ICharacter | null> {
  const found = await em.findOne(
    Character,
    { user: actor.user.id, attributes: { card: { sha256: fileHash } } },
    { populate: ['user', 'guild'] },
  );
  return found as ICharacter | null;
}
