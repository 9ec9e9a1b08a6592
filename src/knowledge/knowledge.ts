import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { canEdit } from '../characters/characters.js';
import type { Actor } from '../core/identity.js';
import { CharacterKnowledge, type ICharacter, type ICharacterKnowledge } from '../db/entities/index.js';
import type { Embedder } from '../embeddings/embedder.js';
import { UserError } from '../errors.js';
import type { JobQueue } from '../queue/job-queue.js';
import { searchMemories, type MemoryHit } from '../memory/vector-store.js';
import type { LoreEntry } from './types.js';
import { isUuid } from '../core/uuid.js';
import { queueIngest } from './ingest-queue.js';

export { INGEST_QUEUE, ingestJobId } from './ingest-queue.js';

export interface KnowledgeLimits {
  /** Largest file accepted. */
  maxFileBytes: number;
  /** Knowledge items one character may hold. */
  maxItemsPerCharacter: number;
  /** Items one server (or, in DMs, one person) may have waiting or being learned at once. */
  maxInFlightPerGuild: number;
  /** Of those, how many one person may hold in a server, so they cannot take all of its slots. */
  maxInFlightPerPerson: number;
}

export const DEFAULT_KNOWLEDGE_LIMITS: KnowledgeLimits = {
  maxFileBytes: 25 * 1024 * 1024,
  maxItemsPerCharacter: 200,
  maxInFlightPerGuild: 10,
  maxInFlightPerPerson: 4,
};

export function assertCanChangeKnowledge(actor: Actor, character: ICharacter): void {
  if (!canEdit(actor, character)) {
    throw new UserError(`Only the creator of ${character.name} (or a server admin, for server characters) can change what it knows.`);
  }
}

/**
 * Records a file or page to learn from, as pending, and queues its ingestion.
 * Returns at once; the ingest job downloads, extracts, chunks and embeds it.
 */
export async function addKnowledge(
  em: EntityManager,
  queue: JobQueue,
  actor: Actor,
  character: ICharacter,
  input: { url: string; name: string; sourceName: string; sourceType: 'file' | 'url'; size?: number; mimeType?: string },
  limits: KnowledgeLimits = DEFAULT_KNOWLEDGE_LIMITS,
): Promise<ICharacterKnowledge> {
  assertCanChangeKnowledge(actor, character);
  if (input.size !== undefined && input.size === 0) throw new UserError('That file is empty.');
  if (input.size !== undefined && input.size > limits.maxFileBytes) {
    throw new UserError(
      `That file is ${(input.size / 1024 / 1024).toFixed(1)} MB; the limit is ${Math.round(limits.maxFileBytes / 1024 / 1024)} MB.`,
    );
  }
  // Lore entries are not sources: a card's 500-entry lorebook must not use up the files a character may learn.
  const count = await em.count(CharacterKnowledge, { character: character.id, sourceType: { $in: ['file', 'url'] } });
  if (count >= limits.maxItemsPerCharacter) {
    throw new UserError(`${character.name} already knows ${count} sources, the most allowed. Remove some with /knowledge remove.`);
  }
  const inFlight = await countInFlight(em, actor);
  if (inFlight >= limits.maxInFlightPerGuild) {
    throw new UserError(
      `${inFlight} files are already being learned ${actor.guild ? 'in this server' : 'for you'}; ` +
        `the most at once is ${limits.maxInFlightPerGuild}. Try again when some have finished (see /knowledge list).`,
    );
  }
  if (actor.guild) {
    const mine = await em.count(CharacterKnowledge, {
      status: { $in: ['pending', 'processing'] },
      sourceType: { $in: ['file', 'url'] },
      uploadedBy: actor.user.id,
      metadata: { guild: actor.guild.id },
    });
    if (mine >= limits.maxInFlightPerPerson) {
      throw new UserError(
        `You already have ${mine} files being learned in this server; one person may have ${limits.maxInFlightPerPerson} at once, ` +
          'so that others can add theirs too. Try again when some have finished (see /knowledge list).',
      );
    }
  }
  const knowledge = em.create(CharacterKnowledge, {
    character,
    uploadedBy: actor.user,
    name: input.name.slice(0, 255),
    sourceType: input.sourceType,
    sourceName: input.sourceName.slice(0, 255),
    mimeType: input.mimeType?.slice(0, 100) ?? null,
    fileSize: input.size ?? null,
    metadata: { url: input.url, ...(actor.guild ? { guild: actor.guild.id } : {}) },
  });
  await em.flush();
  await queueIngest(em, queue, [knowledge.id]);
  return knowledge as ICharacterKnowledge;
}

/** Files waiting or being learned for the actor's server, or for the actor in DMs. */
async function countInFlight(em: EntityManager, actor: Actor): Promise<number> {
  const scope = actor.guild ? { metadata: { guild: actor.guild.id } } : { uploadedBy: actor.user.id, metadata: { guild: null } };
  return em.count(CharacterKnowledge, { status: { $in: ['pending', 'processing'] }, sourceType: { $in: ['file', 'url'] }, ...scope });
}

/**
 * A lorebook entry becomes a knowledge item of its own, embedded like any
 * file; its keywords stay in the item's metadata for keyword-triggered lore.
 */
export async function addLoreEntries(
  em: EntityManager,
  queue: JobQueue,
  actor: Actor,
  character: ICharacter,
  entries: LoreEntry[],
): Promise<number> {
  return (await createLoreItems(em, queue, actor, character, entries)).length;
}

/**
 * As addLoreEntries, returning the stored items. Every entry is kept, in order: disabled and empty ones too (as
 * SillyTavern keeps them), stored as learned with nothing to embed (`processingInfo.skipped`), so they never reach
 * recall; enabling one later embeds it (editLore).
 */
export async function createLoreItems(
  em: EntityManager,
  queue: JobQueue,
  actor: Actor,
  character: ICharacter,
  entries: LoreEntry[],
): Promise<ICharacterKnowledge[]> {
  assertCanChangeKnowledge(actor, character);
  const items = buildLoreItems(em, character, actor.user, entries);
  await em.flush();
  await queueLoreItems(em, queue, items);
  return items;
}

/** The lore items of these entries, not yet flushed (for callers that checked who may add them). */
export function buildLoreItems(
  em: EntityManager,
  character: ICharacter,
  uploadedBy: ICharacterKnowledge['uploadedBy'],
  entries: LoreEntry[],
): ICharacterKnowledge[] {
  // One millisecond apart, so that listing by creation time keeps the lorebook's order.
  const now = Date.now();
  return entries.map((entry, i) => {
    const name = (entry.name || entry.keys.slice(0, 3).join(', ') || `Lore entry ${i + 1}`).slice(0, 200);
    const skipped = entry.enabled === false ? 'disabled' : entry.content.trim() ? undefined : 'empty';
    return em.create(CharacterKnowledge, {
      character,
      uploadedBy,
      name,
      sourceType: 'manual',
      sourceName: `lore-${i + 1}.txt`,
      mimeType: 'text/plain',
      fileSize: Buffer.byteLength(entry.content),
      metadata: { inline: entry.content, lore: { ...entry, content: undefined } },
      createdAt: new Date(now + i),
      ...(skipped ? { status: 'completed' as const, processingInfo: { skipped } } : {}),
    }) as ICharacterKnowledge;
  });
}

/** Queues the embedding of stored lore items (disabled and empty ones have none). */
export async function queueLoreItems(em: EntityManager, queue: JobQueue, items: ICharacterKnowledge[]): Promise<void> {
  await queueIngest(
    em,
    queue,
    items.filter((item) => item.status !== 'completed').map((item) => item.id),
  );
}

/** Re-queues items left pending or processing (after a restart with in-process queues; harmless with Redis). */
export async function requeueUnfinished(em: EntityManager, queue: JobQueue): Promise<number> {
  const unfinished = await em.find(
    CharacterKnowledge,
    { status: { $in: ['pending', 'processing'] } },
    { fields: ['id'], orderBy: { createdAt: 'asc' } },
  );
  await queueIngest(
    em,
    queue,
    unfinished.map((item) => item.id),
  );
  return unfinished.length;
}

export async function findKnowledge(em: EntityManager, id: string): Promise<ICharacterKnowledge | null> {
  return (await em.findOne(CharacterKnowledge, id)) as ICharacterKnowledge | null;
}

export async function listKnowledge(em: EntityManager, character: ICharacter): Promise<ICharacterKnowledge[]> {
  const rows = await em.find(CharacterKnowledge, { character: character.id }, { orderBy: { createdAt: 'desc' } });
  return rows as ICharacterKnowledge[];
}

/** Deletes an item; its chunks leave retrieval at once (ON DELETE CASCADE). */
export async function removeKnowledge(em: EntityManager, actor: Actor, character: ICharacter, id: string): Promise<ICharacterKnowledge> {
  assertCanChangeKnowledge(actor, character);
  // The option is autocompleted, but a person may type anything: only an id can name an item.
  const item = isUuid(id.trim()) ? await em.findOne(CharacterKnowledge, { id: id.trim(), character: character.id }) : null;
  if (!item) throw new UserError(`${character.name} has no such knowledge item. Pick one from the list.`);
  await em.nativeDelete(CharacterKnowledge, { id: item.id });
  return item as ICharacterKnowledge;
}

/** What the character would recall for `query`: its nearest knowledge chunks with their scores. */
export async function searchKnowledge(
  em: EntityManager,
  embedder: Embedder,
  character: ICharacter,
  query: string,
  k = 5,
): Promise<MemoryHit[]> {
  const [vector] = await embedder.embed([query]);
  return searchMemories(em, vector!, { characterId: character.id, memoryType: 'character' }, { k });
}

export function contentHash(buffer: Buffer): string {
  return createHash('sha256').update(buffer).digest('hex');
}
