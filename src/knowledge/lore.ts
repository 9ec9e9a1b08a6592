import { isDeepStrictEqual } from 'node:util';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../core/identity.js';
import { CharacterKnowledge, type ICharacter, type ICharacterKnowledge, type ImportStatus } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import type { JobQueue } from '../queue/job-queue.js';
import { queueIngest } from './ingest-queue.js';
import { assertCanChangeKnowledge, createLoreItems, removeKnowledge } from './knowledge.js';
import { compileKey, isRegexKey, MAX_REGEX_KEY_LENGTH } from './lore-keys.js';
import type { LoreEntry } from './types.js';
import { isUuid } from '../core/uuid.js';

export { activateLore, selectLore, loreBudget, type ActivatedLore, type GlobalScanData, type LoreScan } from './lore-select.js';
export { splitKeys } from './lore-keys.js';

/**
 * A lorebook entry (world info) of a character. It is stored as a knowledge
 * item of source type 'manual' whose metadata holds the content (`inline`) and
 * the rest of the entry (`lore`), so it is also embedded for vector recall.
 */
export interface LoreItem {
  id: string;
  name: string;
  entry: LoreEntry;
}

/** A lore item as /lore list shows it: with how its embedding went. */
export interface LoreRow extends LoreItem {
  status: ImportStatus;
  /** Why embedding failed, when it did. */
  error?: string;
}

export interface LoreInput {
  name?: string;
  keys: string[];
  secondaryKeys?: string[];
  content: string;
  constant?: boolean;
  caseSensitive?: boolean;
  useRegex?: boolean;
  selective?: boolean;
  priority?: number;
}

export type LorePatch = Partial<LoreInput> & { enabled?: boolean };

export const LORE_LIMITS = {
  maxContentChars: 8000,
  maxKeys: 50,
  maxKeyChars: 200,
  maxNameChars: 200,
  maxEntriesPerCharacter: 1000,
} as const;

/** Every lore item of a character, whatever its embedding status (keywords work before embedding finishes). */
export async function loadLore(em: EntityManager, characterId: string): Promise<LoreItem[]> {
  return (await loreRows(em, characterId)).map(({ id, name, entry }) => ({ id, name, entry }));
}

export async function listLore(em: EntityManager, character: ICharacter): Promise<LoreRow[]> {
  return loreRows(em, character.id);
}

/** The lore entry picked in a command: by id (what autocomplete sends) or by name. */
export async function findLore(em: EntityManager, character: ICharacter, idOrName: string): Promise<LoreRow> {
  const key = idOrName.trim();
  const rows = await loreRows(em, character.id);
  const row = rows.find((item) => item.id === key) ?? rows.find((item) => item.name.toLowerCase() === key.toLowerCase());
  if (!row) throw new UserError(`${character.name} has no lore entry “${key.slice(0, 100)}”. See /lore list.`);
  return row;
}

/** Adds a lore entry and queues its embedding; its keywords work at once. */
export async function addLore(
  em: EntityManager,
  queue: JobQueue,
  actor: Actor,
  character: ICharacter,
  input: LoreInput,
): Promise<LoreItem> {
  assertCanChangeKnowledge(actor, character);
  const entry = checkLore(input);
  const count = await em.count(CharacterKnowledge, { character: character.id, sourceType: 'manual' });
  if (count >= LORE_LIMITS.maxEntriesPerCharacter) {
    throw new UserError(`${character.name} already has ${count} lore entries, the most allowed. Remove some with /lore remove.`);
  }
  await assertContentNew(em, character, entry.content);
  const [item] = await createLoreItems(em, queue, actor, character, [entry]);
  return { id: item!.id, name: item!.name, entry };
}

/**
 * Changes a lore entry. When its content changes, it is embedded again: the
 * item goes back to pending and a new ingest job (a new job id, since the
 * queue ignores ids it has seen) replaces its passages.
 */
export async function editLore(
  em: EntityManager,
  queue: JobQueue,
  actor: Actor,
  character: ICharacter,
  id: string,
  patch: LorePatch,
): Promise<LoreItem> {
  assertCanChangeKnowledge(actor, character);
  const row = await findLoreRow(em, character, id);
  const current = row ? loreOf(row) : undefined;
  if (!row || !current) throw new UserError(`${character.name} has no such lore entry.`);
  const given = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as LorePatch;
  // Only what was given changes: an imported entry keeps its other settings and its original JSON.
  const sameKeys =
    isDeepStrictEqual(given.keys ?? current.entry.keys, current.entry.keys) &&
    isDeepStrictEqual(given.secondaryKeys ?? current.entry.secondaryKeys ?? [], current.entry.secondaryKeys ?? []) &&
    given.useRegex === undefined &&
    given.caseSensitive === undefined &&
    given.constant === undefined;
  const checked = checkLore(
    { ...current.entry, name: current.name, ...given },
    { content: (given.content ?? current.entry.content) === current.entry.content, keys: sameKeys },
  );
  const changed = Object.fromEntries(Object.entries(checked).filter(([key]) => key in given));
  const entry: LoreEntry & { name: string } = {
    ...current.entry,
    ...changed,
    name: checked.name,
    ...(given.enabled === undefined ? {} : { enabled: given.enabled }),
  };
  const contentChanged = entry.content !== current.entry.content;
  if (contentChanged) await assertContentNew(em, character, entry.content, row.id);
  // Disabled and empty entries are stored without embedding; switching one on learns it now.
  const skipped = Boolean((row.processingInfo as { skipped?: string } | null)?.skipped);
  const embedNow = contentChanged || (skipped && entry.enabled !== false && entry.content.trim() !== '');
  row.name = entry.name;
  row.metadata = { ...row.metadata, inline: entry.content, lore: { ...entry, content: undefined } };
  if (embedNow) {
    row.status = 'pending';
    row.fileSize = Buffer.byteLength(entry.content);
    row.contentHash = null;
    row.processingInfo = null;
  }
  await em.flush();
  if (embedNow) {
    await queueIngest(em, queue, [row.id], { again: true });
  }
  return { id: row.id, name: row.name, entry };
}

/** A lore entry of this character by id; the option is autocompleted, but a person may type anything. */
async function findLoreRow(em: EntityManager, character: ICharacter, id: string): Promise<ICharacterKnowledge | null> {
  if (!isUuid(id.trim())) return null;
  return (await em.findOne(CharacterKnowledge, {
    id: id.trim(),
    character: character.id,
    sourceType: 'manual',
  })) as ICharacterKnowledge | null;
}

/** Deletes a lore entry; its passages leave recall at once. */
export async function removeLore(em: EntityManager, actor: Actor, character: ICharacter, id: string): Promise<LoreItem> {
  assertCanChangeKnowledge(actor, character);
  const row = await findLoreRow(em, character, id);
  const item = row ? loreOf(row) : undefined;
  if (!item) throw new UserError(`${character.name} has no such lore entry.`);
  await removeKnowledge(em, actor, character, item.id);
  return { id: item.id, name: item.name, entry: item.entry };
}

/**
 * The entry as it will be stored, or a UserError saying what to fix. `kept`: values an edit leaves as they are, which
 * an imported entry may hold beyond these limits (empty or over 8,000 characters, more keywords): not checked again.
 */
function checkLore(input: LoreInput, kept: { content?: boolean; keys?: boolean } = {}): LoreEntry & { name: string } {
  const content = kept.content ? input.content : input.content.trim();
  if (!kept.content && !content) throw new UserError('A lore entry needs content: what the character should know.');
  if (!kept.content && content.length > LORE_LIMITS.maxContentChars) {
    throw new UserError(
      `That lore entry is ${content.length} characters long; the limit is ${LORE_LIMITS.maxContentChars}. Split it into several entries.`,
    );
  }
  const options = { caseSensitive: input.caseSensitive, useRegex: input.useRegex };
  const keys = kept.keys ? input.keys : checkKeys(input.keys, options, 'keywords');
  const secondaryKeys = kept.keys ? (input.secondaryKeys ?? []) : checkKeys(input.secondaryKeys ?? [], options, 'secondary keywords');
  if (!kept.keys && keys.length === 0 && !input.constant) {
    throw new UserError('Give at least one keyword (several separated by commas), or make the entry constant so it is always included.');
  }
  if (input.priority !== undefined && !Number.isInteger(input.priority)) throw new UserError('The priority must be a whole number.');
  const name = (input.name?.trim() || keys.slice(0, 3).join(', ') || shorten(content, 60)).slice(0, LORE_LIMITS.maxNameChars);
  return {
    name,
    keys,
    secondaryKeys,
    content,
    constant: Boolean(input.constant),
    selective: input.selective ?? secondaryKeys.length > 0,
    caseSensitive: Boolean(input.caseSensitive),
    useRegex: Boolean(input.useRegex),
    priority: input.priority ?? 0,
  };
}

function checkKeys(raw: string[], options: { caseSensitive?: boolean; useRegex?: boolean }, what: string): string[] {
  const keys = [...new Set(raw.map((key) => key.trim()).filter(Boolean))];
  if (keys.length > LORE_LIMITS.maxKeys)
    throw new UserError(`At most ${LORE_LIMITS.maxKeys} ${what} per entry (this one has ${keys.length}).`);
  for (const key of keys) {
    const regex = isRegexKey(key, options);
    const limit = regex ? MAX_REGEX_KEY_LENGTH : LORE_LIMITS.maxKeyChars;
    if (key.length > limit)
      throw new UserError(`The keyword “${shorten(key, 40)}” is ${key.length} characters long; the limit is ${limit}.`);
    const check = compileKey(key, options);
    if (!check.ok) throw new UserError(`The keyword “${shorten(key, 100)}” is not a usable regular expression: ${check.reason}.`);
  }
  return keys;
}

async function assertContentNew(em: EntityManager, character: ICharacter, content: string, exceptId?: string): Promise<void> {
  const twin = await em.findOne(CharacterKnowledge, {
    character: character.id,
    sourceType: 'manual',
    metadata: { inline: content },
    ...(exceptId ? { id: { $ne: exceptId } } : {}),
  });
  if (twin) throw new UserError(`The lore entry “${twin.name}” already says exactly that.`);
}

async function loreRows(em: EntityManager, characterId: string): Promise<LoreRow[]> {
  const rows = await em.find(
    CharacterKnowledge,
    { character: characterId, sourceType: 'manual' },
    { orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  return rows.flatMap((row) => loreOf(row as ICharacterKnowledge) ?? []);
}

function loreOf(row: ICharacterKnowledge): LoreRow | undefined {
  const meta = row.metadata as { inline?: unknown; lore?: Partial<LoreEntry> };
  if (typeof meta.inline !== 'string' && !meta.lore) return undefined;
  const lore = meta.lore ?? {};
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((key): key is string => typeof key === 'string') : []);
  const entry: LoreEntry = {
    ...lore,
    keys: strings(lore.keys),
    ...(lore.secondaryKeys === undefined ? {} : { secondaryKeys: strings(lore.secondaryKeys) }),
    content: typeof meta.inline === 'string' ? meta.inline : String(lore.content ?? ''),
  };
  const error = row.status === 'failed' ? (row.processingInfo as { error?: string } | null)?.error : undefined;
  return { id: row.id, name: row.name, entry, status: row.status, ...(error ? { error } : {}) };
}

function shorten(text: string, chars: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > chars ? `${flat.slice(0, chars - 1)}…` : flat;
}
