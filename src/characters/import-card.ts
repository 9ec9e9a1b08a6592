import type { EntityManager } from '@mikro-orm/postgresql';
import type { ParsedCard } from '../cards/parse-card.js';
import type { CardExportInput } from '../cards/export-card.js';
import type { Actor } from '../core/identity.js';
import { CharacterKnowledge, type ICharacter } from '../db/entities/index.js';
import { addLoreEntries } from '../knowledge/knowledge.js';
import type { LoreEntry } from '../knowledge/types.js';
import type { JobQueue } from '../queue/job-queue.js';
import { createCharacter } from './characters.js';

/**
 * Makes a character from a parsed card. Description and personality become
 * the personality prompt; the lorebook's entries become knowledge items.
 * Nothing is stored when the card's fields are refused.
 */
export async function importCard(
  em: EntityManager,
  queue: JobQueue,
  actor: Actor,
  card: ParsedCard,
  options: { visibility?: 'private' | 'guild' | 'public'; avatarUrl?: string },
): Promise<{ character: ICharacter; loreEntries: number }> {
  const personality = [card.description, card.personality && `Personality: ${card.personality}`].filter(Boolean).join('\n\n');
  const character = await createCharacter(em, actor, {
    name: card.name,
    personalityPrompt: personality || card.name,
    greeting: card.greeting || null,
    exampleDialogue: card.exampleDialogue || null,
    scenario: card.scenario || null,
    systemPrompt: card.systemPrompt || null,
    postHistoryInstructions: card.postHistoryInstructions || null,
    creatorNotes: card.creatorNotes || null,
    alternateGreetings: card.alternateGreetings.slice(0, 50),
    tags: card.tags.map((tag) => tag.trim()).filter(Boolean).slice(0, 50),
    avatarUrl: options.avatarUrl ?? null,
    visibility: options.visibility ?? 'private',
    attributes: { card: { spec: card.spec, creator: card.creator, version: card.characterVersion } },
    ...(card.talkativeness === undefined ? {} : { config: { talkativeness: card.talkativeness } }),
  });
  const loreEntries = card.lorebook.length ? await addLoreEntries(em, queue, actor, character, card.lorebook) : 0;
  return { character, loreEntries };
}

/** What /character export writes: the character and its lore entries. */
export async function cardOf(em: EntityManager, character: ICharacter): Promise<CardExportInput> {
  const lore = await em.find(CharacterKnowledge, { character: character.id, sourceType: 'manual' }, { orderBy: { createdAt: 'asc' } });
  return {
    name: character.name,
    description: character.personalityPrompt,
    scenario: character.scenario,
    greeting: character.greeting,
    exampleDialogue: character.exampleDialogue,
    systemPrompt: character.systemPrompt,
    postHistoryInstructions: character.postHistoryInstructions,
    alternateGreetings: character.alternateGreetings,
    tags: character.tags,
    creatorNotes: character.creatorNotes,
    creator: character.user.username ?? '',
    talkativeness: character.config.talkativeness,
    lorebook: lore
      .map((item) => {
        const meta = item.metadata as { inline?: string; lore?: Partial<LoreEntry> };
        return meta.inline ? ({ keys: [], ...meta.lore, content: meta.inline } as LoreEntry) : undefined;
      })
      .filter((entry): entry is LoreEntry => Boolean(entry)),
  };
}
