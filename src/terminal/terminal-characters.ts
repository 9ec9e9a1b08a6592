import { readFile, stat } from 'node:fs/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CARD_LIMITS } from '../cards/card-limits.js';
import { parseCard } from '../cards/parse-card.js';
import { findUsableCharacter, searchCharacters } from '../characters/characters.js';
import { cardHash, findImport, importCard } from '../characters/import-card.js';
import type { Actor } from '../core/identity.js';
import type { ICharacter } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import type { JobQueue } from '../queue/job-queue.js';

/** A character by name for the terminal, with the terminal's own advice when there is none. */
export async function findTerminalCharacter(em: EntityManager, actor: Actor, name: string): Promise<ICharacter> {
  try {
    return await findUsableCharacter(em, actor, name);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    throw new UserError(
      error.message.replace('Try /character list.', 'See npm run chat -- --list, or import a card with --card path/to/card.png.'),
    );
  }
}

/**
 * The character of a card file: imported now, or the one imported earlier from exactly this file (the file's hash
 * is kept with the character). Returns what was not kept, to print.
 */
export async function characterFromCard(
  em: EntityManager,
  queue: JobQueue,
  actor: Actor,
  file: string,
): Promise<{ character: ICharacter; imported: boolean; notes: string[] }> {
  const size = await stat(file).then(
    (info) => info.size,
    () => {
      throw new UserError(`There is no file at ${file}.`);
    },
  );
  if (size > CARD_LIMITS.fileBytes) throw new UserError(`That card is larger than ${CARD_LIMITS.fileBytes / 1024 / 1024} MB.`);
  const buffer = await readFile(file);
  const hash = cardHash(buffer);
  const earlier = await findImport(em, actor, hash);
  if (earlier) return { character: earlier, imported: false, notes: [] };
  const card = await parseCard(buffer);
  const { character, notes } = await importCard(em, queue, actor, card, { fileHash: hash }).catch((error: unknown) => {
    if (error instanceof UserError && /already have a character called/.test(error.message)) {
      throw new UserError(
        `You already have a character called “${card.fields.name}” from another file. Chat with it with --character "${card.fields.name}".`,
      );
    }
    throw error;
  });
  return { character, imported: true, notes };
}

/** What `--list` prints: the characters the terminal user can chat with. */
export async function listText(em: EntityManager, actor: Actor): Promise<string> {
  const { items, total } = await searchCharacters(em, actor, '', { limit: 200 });
  if (total === 0) return 'No characters yet. Import one with: npm run chat -- --card path/to/card.png\n';
  const lines = items.map((character) => {
    const about = character.personalityPrompt.replace(/\s+/g, ' ').trim();
    return `${character.name}${about ? ` — ${about.length > 80 ? `${about.slice(0, 79)}…` : about}` : ''}`;
  });
  return `${lines.join('\n')}\n${total > items.length ? `…and ${total - items.length} more.\n` : ''}`;
}
