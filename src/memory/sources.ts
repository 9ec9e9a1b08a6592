import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReplySource } from '../chat/responder.js';
import { replyPressedIn } from '../chat/pressed-reply.js';
import { CharacterKnowledge } from '../db/entities/index.js';
import { isUuid } from '../core/uuid.js';

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
 * The memories, lore entries and knowledge chunks that went into a reply's
 * prompt. Texts are read now, so what was forgotten since shows as such; a
 * memory of another conversation shows its text only to the person it is about.
 * The reply must be one of the conversation of `viewer.channelId`.
 */
export async function replySources(
  em: EntityManager,
  replyId: string,
  viewer: { userId: string; channelId: string },
): Promise<{ characterName: string; sources: ShownSource[]; images: ShownImage[] }> {
  // Only a reply of the conversation where the button was pressed: a forged id of another channel shows nothing.
  const { reply } = await replyPressedIn(em, replyId, viewer.channelId);
  const viewerUserId = viewer.userId;
  const stored = ((reply.metadata as { sources?: ReplySource[] }).sources ?? []).slice(0, 40);
  const memoryIds = stored.filter((source) => source.kind !== 'lore').map((source) => source.id);
  const loreIds = stored.filter((source) => source.kind === 'lore').map((source) => source.id);
  const [memories, lore] = await Promise.all([
    memoryIds.length
      ? em.execute<{ id: string; content: string }[]>(`select id, content from vector_memories where id = any(?::uuid[])`, [
          `{${memoryIds.join(',')}}`,
        ])
      : [],
    loreIds.length ? em.find(CharacterKnowledge, { id: { $in: loreIds } }, { populate: ['rawContent'] }) : [],
  ]);
  const texts = new Map<string, string>(memories.map((row) => [row.id, row.content]));
  for (const item of lore) texts.set(item.id, (item.metadata as { inline?: string }).inline ?? item.rawContent ?? '');
  const sources = stored.map((source): ShownSource => {
    const text = texts.get(source.id);
    if (text === undefined) return { ...source, state: 'forgotten' };
    if (source.kind === 'other' && source.userId !== viewerUserId) return { ...source, url: undefined, jump: undefined, state: 'private' };
    const flat = text.replace(/\s+/g, ' ').trim();
    return { ...source, excerpt: flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat, state: 'shown' };
  });
  const images = await imagesSeen(em, ((reply.metadata as { images?: string[] }).images ?? []).filter(isUuid).slice(0, 20));
  return { characterName: reply.character?.name ?? 'The character', sources, images };
}

/** The pictures a reply saw, with their captions read now (so forgetting works here too). */
async function imagesSeen(em: EntityManager, ids: string[]): Promise<ShownImage[]> {
  if (!ids.length) return [];
  const rows = await em.execute<{ id: string; caption: string | null; author_name: string | null }[]>(
    `select i.id, i.caption, m.author_name from message_images i join messages m on m.id = i.message_id where i.id = any(?::uuid[])`,
    [`{${ids.join(',')}}`],
  );
  const found = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id): ShownImage => {
    const row = found.get(id);
    if (!row) return { sharedBy: 'Someone', state: 'forgotten' };
    const sharedBy = row.author_name ?? 'Someone';
    return row.caption ? { sharedBy, caption: row.caption, state: 'shown' } : { sharedBy, state: 'uncaptioned' };
  });
}
