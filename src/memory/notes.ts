import type { EntityManager } from '@mikro-orm/postgresql';
import type { PromptNote } from '../chat/prompt.js';
import type { SharedMemoryScope } from '../chat/retrieval.js';
import type { Actor } from '../core/identity.js';
import { findUsableCharacter } from '../characters/characters.js';
import { Conversation, PersonNote, type ICharacter, type IConversation, type IPersonNote } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import { cleanNote, NOTES_PER_PERSON, noteKey, sameNote, type ExtractedNote } from './notes-extract.js';

/** Every note a character keeps about a person, newest first (for the person themselves: /memory notes). */
export async function notesAbout(em: EntityManager, userId: string, characterId: string): Promise<IPersonNote[]> {
  return (await em.find(
    PersonNote,
    { user: userId, character: characterId },
    { orderBy: { updatedAt: 'desc', id: 'asc' }, limit: NOTES_PER_PERSON * 2 },
  )) as IPersonNote[];
}

/**
 * The notes about the answered person that may go into a reply in this conversation, newest first. The same
 * privacy rule as recalled memories (README, "Memory"): a note said here always may; one said elsewhere only when
 * the person said it alone with the character and, in a server channel, in a channel of the same server that every
 * member can read (conversations.is_public, read now); in a DM, from other DMs ('server', the default) or from
 * anywhere ('everywhere'). `off` keeps them to this conversation. A note the person wrote themselves outside any
 * conversation counts as said in a DM.
 */
export async function notesForPrompt(
  em: EntityManager,
  input: {
    userId: string;
    characterId: string;
    conversation: Pick<IConversation, 'id' | 'kind'>;
    guildId?: string;
    shared?: SharedMemoryScope;
  },
): Promise<PromptNote[]> {
  const shared = input.shared ?? 'server';
  const params: unknown[] = [input.userId, input.characterId, input.conversation.id];
  let elsewhere = 'false';
  if (shared !== 'off' && input.conversation.kind === 'dm') {
    elsewhere = shared === 'everywhere' ? 'n.shared' : `n.shared and (n.conversation_id is null or c.kind = 'dm')`;
  } else if (shared !== 'off' && input.guildId) {
    elsewhere = 'n.shared and c.is_public and g.discord_id = ?';
    params.push(input.guildId);
  }
  const rows = await em.execute<{ id: string; content: string; persona: string | null }[]>(
    `select n.id, n.content, n.persona from person_notes n
       left join conversations c on c.id = n.conversation_id
       left join guilds g on g.id = c.guild_id
      where n.user_id = ? and n.character_id = ? and (n.conversation_id = ? or (${elsewhere}))
      order by n.updated_at desc, n.id limit ${NOTES_PER_PERSON}`,
    params,
  );
  return rows.map((row) => ({ id: row.id, content: row.content, ...(row.persona ? { persona: row.persona } : {}) }));
}

/** Where new notes come from: the person, the character, the conversation, and whether the person was alone with it. */
export interface NoteOrigin {
  userId: string;
  characterId: string;
  conversationId: string;
  shared: boolean;
}

/** A note the model found, with the stored messages and the persona it came from. */
export interface FoundNote extends ExtractedNote {
  messageIds: string[];
  persona?: string;
}

/**
 * Merges found notes into the person's notes: one that says what a kept note says (or less) is dropped, one that
 * changes or says more than a kept note takes its place (a note the person wrote is changed only by them), and
 * past NOTES_PER_PERSON the oldest notes the person did not write go. Returns how many were added.
 */
export async function mergeNotes(tx: EntityManager, origin: NoteOrigin, found: FoundNote[]): Promise<number> {
  const kept = (await tx.find(
    PersonNote,
    { user: origin.userId, character: origin.characterId },
    { orderBy: { createdAt: 'asc', id: 'asc' } },
  )) as IPersonNote[];
  const shown = [...kept].sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || a.id.localeCompare(b.id));
  const doomed = new Set<string>();
  let added = 0;
  for (const note of found) {
    const live = kept.filter((k) => !doomed.has(k.id));
    if (live.some((k) => sameNote(k.content, note.content))) continue;
    const replaced = note.replaces ? shown[note.replaces - 1] : undefined;
    if (replaced && !replaced.edited) doomed.add(replaced.id);
    for (const k of live) if (!k.edited && sameNote(note.content, k.content)) doomed.add(k.id);
    const row = tx.create(PersonNote, {
      user: origin.userId,
      character: origin.characterId,
      conversation: origin.conversationId,
      content: note.content,
      persona: note.persona ?? null,
      messageIds: note.messageIds,
      shared: origin.shared,
    });
    kept.push(row as IPersonNote);
    added += 1;
  }
  if (doomed.size) await tx.nativeDelete(PersonNote, { id: { $in: [...doomed] } });
  await tx.flush();
  await trimNotes(tx, origin.userId, origin.characterId);
  return added;
}

/** Keeps at most NOTES_PER_PERSON notes: the oldest the model wrote go first, then the oldest the person wrote. */
async function trimNotes(tx: EntityManager, userId: string, characterId: string): Promise<void> {
  await tx.execute(
    `delete from person_notes where id in (
       select id from person_notes where user_id = ? and character_id = ?
        order by edited desc, updated_at desc, id offset ${NOTES_PER_PERSON})`,
    [userId, characterId],
    'run',
  );
}

/**
 * The person's own edit (/memory notes): the notes become these lines. A line that is a kept note unchanged keeps
 * it (where it was said, which persona); changed or new lines are the person's notes, said where they wrote them
 * (`conversationId`, or none outside a conversation: then they count as said in a DM). Returns the count kept.
 */
export async function replaceNotes(
  em: EntityManager,
  input: { userId: string; characterId: string; conversationId?: string; shown: string[]; text: string },
): Promise<number> {
  const lines = [
    ...new Set(
      input.text
        .split(/\r?\n/)
        .map((line) => cleanNote(line.replace(/^\s*(?:[-*•]|\d+[.)])\s+/, '')))
        .filter(Boolean),
    ),
  ];
  if (lines.length > NOTES_PER_PERSON) {
    throw new UserError(
      `That is ${lines.length} notes; a character keeps at most ${NOTES_PER_PERSON} about each person. Remove some and save again.`,
    );
  }
  return em.transactional(async (tx) => {
    const kept = (await tx.find(PersonNote, { user: input.userId, character: input.characterId })) as IPersonNote[];
    const byKey = new Map(kept.map((note) => [noteKey(note.content), note]));
    const stay = new Set<string>();
    for (const line of lines) {
      const same = byKey.get(noteKey(line));
      if (same && !stay.has(same.id)) {
        stay.add(same.id);
        continue;
      }
      tx.create(PersonNote, {
        user: input.userId,
        character: input.characterId,
        conversation: input.conversationId ?? null,
        content: line,
        shared: true,
        edited: true,
      });
    }
    // Only notes the form showed are removed: one the model added meanwhile stays.
    const shownKeys = new Set(input.shown.map(noteKey));
    const gone = kept.filter((note) => !stay.has(note.id) && shownKeys.has(noteKey(note.content))).map((note) => note.id);
    if (gone.length) await tx.nativeDelete(PersonNote, { id: { $in: gone } });
    await tx.flush();
    return lines.length;
  });
}

/** A note as /memory notes shows it to the person it is about. */
export interface ShownNote {
  content: string;
  persona?: string;
  /** Written by the person themselves. */
  edited: boolean;
  /** Said in the conversation of the channel where they asked. */
  here: boolean;
  updatedAt: Date;
}

/**
 * Which character /memory notes is about: the one named (an id from autocomplete, or a name), else the one bound
 * to this channel's conversation.
 */
export async function notesCharacter(em: EntityManager, actor: Actor, option: string | null, channelId: string): Promise<ICharacter> {
  if (option?.trim()) return findUsableCharacter(em, actor, option);
  const conversation = await em.findOne(Conversation, { discordChannelId: channelId }, { populate: ['character'] });
  if (!conversation?.character) {
    throw new UserError('Which character? Name one: /memory notes character:<name>.');
  }
  return conversation.character as ICharacter;
}

/** The notes a character keeps about the person asking (only ever shown to them). */
export async function shownNotes(em: EntityManager, userId: string, characterId: string, channelId: string): Promise<ShownNote[]> {
  const here = await em.findOne(Conversation, { discordChannelId: channelId }, { fields: ['id'] });
  return (await notesAbout(em, userId, characterId)).map((note) => ({
    content: note.content,
    ...(note.persona ? { persona: note.persona } : {}),
    edited: note.edited,
    here: Boolean(here && note.conversation?.id === here.id),
    updatedAt: note.updatedAt,
  }));
}

/** The person's notes for /memory export: those said in this conversation, and all the conversation's character keeps. */
export async function* exportNotes(
  em: EntityManager,
  userId: string,
  conversation: Pick<IConversation, 'id' | 'character'>,
): AsyncGenerator<string> {
  const rows = await em.execute<
    { character: string; content: string; persona: string | null; edited: boolean; here: boolean; updated_at: Date }[]
  >(
    `select ch.name as character, n.content, n.persona, n.edited, n.conversation_id is not distinct from ? as here, n.updated_at
       from person_notes n join characters ch on ch.id = n.character_id
      where n.user_id = ? and (n.conversation_id = ? or n.character_id = ?)
      order by ch.name, n.updated_at desc, n.id`,
    [conversation.id, userId, conversation.id, conversation.character?.id ?? null],
  );
  for (const row of rows) {
    yield `${JSON.stringify({
      kind: 'note',
      character: row.character,
      note: row.content,
      persona: row.persona ?? undefined,
      writtenByYou: row.edited,
      saidHere: row.here,
      at: new Date(row.updated_at).toISOString(),
    })}\n`;
  }
}
