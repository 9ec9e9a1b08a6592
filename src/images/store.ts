import type { EntityManager } from '@mikro-orm/postgresql';
import type { PreparedImage } from './prepare.js';
import { uuidArray } from '../core/uuid.js';

/** A stored image without its bytes, as the prompt and memory read it. */
export interface StoredImage {
  id: string;
  messageId: string;
  position: number;
  mimeType: string;
  width: number;
  height: number;
  caption: string | null;
}

/** Keeps a message's images (in one round trip). */
export async function saveImages(em: EntityManager, messageId: string, images: PreparedImage[]): Promise<void> {
  if (!images.length) return;
  const values = images.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
  await em.execute(
    `insert into message_images (message_id, position, mime_type, width, height, data) values ${values}`,
    images.flatMap((image, position) => [messageId, position, image.mimeType, image.width, image.height, image.data]),
    'run',
  );
}

/** The images of these messages, in message order then position; without bytes. */
export async function imagesOf(em: EntityManager, messageIds: string[]): Promise<StoredImage[]> {
  if (!messageIds.length) return [];
  const rows = await em.execute<
    { id: string; message_id: string; position: number; mime_type: string; width: number; height: number; caption: string | null }[]
  >(
    `select id, message_id, position, mime_type, width, height, caption from message_images
      where message_id = any(?::uuid[]) order by position`,
    [uuidArray(messageIds)],
  );
  const order = new Map(messageIds.map((id, i) => [id, i]));
  return rows
    .map((row) => ({
      id: row.id,
      messageId: row.message_id,
      position: row.position,
      mimeType: row.mime_type,
      width: row.width,
      height: row.height,
      caption: row.caption,
    }))
    .sort((a, b) => order.get(a.messageId)! - order.get(b.messageId)! || a.position - b.position);
}

/** The bytes of these images, by id. */
export async function imageBytes(em: EntityManager, ids: string[]): Promise<Map<string, Buffer>> {
  if (!ids.length) return new Map();
  const rows = await em.execute<{ id: string; data: Buffer }[]>(`select id, data from message_images where id = any(?::uuid[])`, [
    uuidArray(ids),
  ]);
  return new Map(rows.map((row) => [row.id, row.data]));
}

/** Stores a caption unless another process wrote one first; returns the caption that stands. */
export async function saveCaption(em: EntityManager, id: string, caption: string, by: string): Promise<string> {
  await em.execute(
    `update message_images set caption = ?, captioned_by = ? where id = ? and caption is null`,
    [caption, by.slice(0, 150), id],
    'run',
  );
  const [row] = await em.execute<{ caption: string | null }[]>(`select caption from message_images where id = ?`, [id]);
  return row?.caption ?? caption;
}

/** How the history reads an image: "[Alice shared an image: a tabby cat asleep on a keyboard]", or without a caption "[Alice shared an image]". */
export function imageNote(speaker: string, caption: string | null | undefined): string {
  const text = caption?.replace(/\s+/g, ' ').trim();
  return text ? `[${speaker} shared an image: ${text}]` : `[${speaker} shared an image]`;
}

/** A message's text followed by the notes of its images. */
export function withImageNotes(content: string, speaker: string, images: Pick<StoredImage, 'caption'>[]): string {
  const notes = images.map((image) => imageNote(speaker, image.caption));
  return [content.trim(), ...notes].filter(Boolean).join('\n');
}
