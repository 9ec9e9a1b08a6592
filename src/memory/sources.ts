import type { EntityManager } from '@mikro-orm/postgresql';
import type { MessageRef } from '../chat/prompt.js';
import type { ReplySource } from '../chat/responder.js';
import { replyPressedIn } from '../chat/pressed-reply.js';
import { CharacterKnowledge } from '../db/entities/index.js';
import { isUuid, uuidArray } from '../core/uuid.js';
import { speakerName } from '../core/speaker.js';

/** One line of a reply's Sources: what it was, how close it was, where it came from, and its text as stored now. */
export interface ShownSource extends ReplySource {
  /** The text as stored now; undefined when it was forgotten or is someone else's. */
  excerpt?: string;
  state: 'shown' | 'forgotten' | 'private';
}

const EXCERPT_CHARS = 180;

/** A picture the reply saw: who shared it and its caption as stored now (none when it was forgotten since). */
export interface ShownImage {
  sharedBy: string;
  caption?: string;
  state: 'shown' | 'forgotten' | 'uncaptioned';
}

/**
 * The memories, lore entries, knowledge chunks, notes and pinned messages that
 * went into a reply's prompt. Texts are read now, so what was forgotten since
 * shows as such. A memory of another conversation, and a note about a person
 * (notes are shown to the person alone, as /memory notes does), show their text
 * only to the person they are about; a pinned message is one of this
 * conversation, which whoever presses here can read. The reply must be one of
 * the conversation of `viewer.channelId`.
 */
export async function replySources(
  em: EntityManager,
  replyId: string,
  viewer: { userId: string; channelId: string },
): Promise<{ characterName: string; sources: ShownSource[]; images: ShownImage[] }> {
  // Only a reply of the conversation where the button was pressed: a forged id of another channel shows nothing.
  const { reply, conversation } = await replyPressedIn(em, replyId, viewer.channelId);
  const viewerUserId = viewer.userId;
  const stored = ((reply.metadata as { sources?: ReplySource[] }).sources ?? []).filter(isUuidSource).slice(0, 40);
  const idsOf = (kinds: ReplySource['kind'][]) => stored.filter((source) => kinds.includes(source.kind)).map((source) => source.id);
  const memoryIds = idsOf(['knowledge', 'conversation', 'other']);
  const loreIds = idsOf(['lore']);
  const noteIds = idsOf(['note']);
  const pinIds = idsOf(['pin']);
  const [memories, lore, notes, pinned] = await Promise.all([
    memoryIds.length
      ? em.execute<{ id: string; content: string }[]>(`select id, content from vector_memories where id = any(?::uuid[])`, [
          uuidArray(memoryIds),
        ])
      : [],
    loreIds.length ? em.find(CharacterKnowledge, { id: { $in: loreIds } }, { populate: ['rawContent'] }) : [],
    noteIds.length
      ? em.execute<{ id: string; content: string; user_id: string }[]>(
          'select id, content, user_id from person_notes where id = any(?::uuid[])',
          [uuidArray(noteIds)],
        )
      : [],
    pinnedMessages(em, conversation.id, pinIds),
  ]);
  const texts = new Map<string, string>(memories.map((row) => [row.id, row.content]));
  for (const item of lore) texts.set(item.id, (item.metadata as { inline?: string }).inline ?? item.rawContent ?? '');
  // Notes: whose each is, read now (only the person it is about sees its text).
  const noteOwners = new Map(notes.map((note) => [note.id, note.user_id]));
  for (const note of notes) texts.set(note.id, note.content);
  const pins = new Map(pinned.map((pin) => [pin.id, pin]));
  for (const pin of pins.values()) texts.set(pin.id, pin.content);
  const sources = stored.map((source): ShownSource => {
    const text = texts.get(source.id);
    if (text === undefined) return { ...source, state: 'forgotten' };
    if (source.kind === 'other' && source.userId !== viewerUserId) return { ...source, url: undefined, jump: undefined, state: 'private' };
    if (source.kind === 'note' && noteOwners.get(source.id) !== viewerUserId) return { ...source, state: 'private' };
    const flat = text.replace(/\s+/g, ' ').trim();
    const excerpt = flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
    const pin = pins.get(source.id);
    if (pin) return { ...source, label: pin.speaker, ...(pin.jump ? { jump: pin.jump } : {}), excerpt, state: 'shown' };
    return { ...source, ...(source.kind === 'note' ? { label: 'about you' } : {}), excerpt, state: 'shown' };
  });
  const images = await imagesSeen(em, ((reply.metadata as { images?: string[] }).images ?? []).filter(isUuid).slice(0, 20));
  return { characterName: reply.character?.name ?? 'The character', sources, images };
}

/** Stored ids are uuids; anything else in old or hand-edited metadata is left out rather than sent to a uuid cast. */
function isUuidSource(source: ReplySource): boolean {
  return isUuid(source.id);
}

/** The pinned messages a reply's prompt held, read now: who said each and where it is (only messages of this conversation). */
async function pinnedMessages(
  em: EntityManager,
  conversationId: string,
  ids: string[],
): Promise<{ id: string; content: string; speaker: string; jump?: MessageRef }[]> {
  if (!ids.length) return [];
  const rows = await em.execute<
    {
      id: string;
      role: string;
      content: string;
      author_name: string | null;
      character_name: string | null;
      discord_message_id: string | null;
      channel_id: string;
      guild_id: string | null;
    }[]
  >(
    `select m.id, m.role, m.content, m.author_name, ch.name as character_name, m.discord_message_id,
            c.discord_channel_id as channel_id, g.discord_id as guild_id
       from messages m join conversations c on c.id = m.conversation_id
       left join guilds g on g.id = c.guild_id left join characters ch on ch.id = m.character_id
      where m.conversation_id = ? and m.id = any(?::uuid[])`,
    [conversationId, uuidArray(ids)],
  );
  return rows.map((row) => ({
    id: row.id,
    content: row.content,
    speaker: speakerName(row.role, row.character_name, row.author_name),
    ...(row.discord_message_id
      ? { jump: { ...(row.guild_id ? { guildId: row.guild_id } : {}), channelId: row.channel_id, messageId: row.discord_message_id } }
      : {}),
  }));
}

/** The pictures a reply saw, with their captions read now (so forgetting works here too). */
async function imagesSeen(em: EntityManager, ids: string[]): Promise<ShownImage[]> {
  if (!ids.length) return [];
  const rows = await em.execute<{ id: string; caption: string | null; author_name: string | null }[]>(
    `select i.id, i.caption, m.author_name from message_images i join messages m on m.id = i.message_id where i.id = any(?::uuid[])`,
    [uuidArray(ids)],
  );
  const found = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id): ShownImage => {
    const row = found.get(id);
    if (!row) return { sharedBy: 'Someone', state: 'forgotten' };
    const sharedBy = row.author_name ?? 'Someone';
    return row.caption ? { sharedBy, caption: row.caption, state: 'shown' } : { sharedBy, state: 'uncaptioned' };
  });
}
