import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isUuid } from '../core/uuid.js';

/**
 * A character's picture as bytes, kept under DATA_DIR/avatars/<character id>.png when a card brings one, so an export
 * embeds the picture itself even after Discord's signed link to the uploaded card has expired.
 */
function avatarPath(dataDir: string, characterId: string): string {
  if (!isUuid(characterId)) throw new Error(`Not a character id: ${characterId}`);
  return path.join(dataDir, 'avatars', `${characterId}.png`);
}

export async function saveAvatar(dataDir: string, characterId: string, png: Buffer): Promise<void> {
  const file = avatarPath(dataDir, characterId);
  await mkdir(path.dirname(file), { recursive: true });
  // Written beside and renamed, so a reader never sees half a picture.
  await writeFile(`${file}.tmp`, png);
  await rename(`${file}.tmp`, file);
}

export async function loadAvatar(dataDir: string, characterId: string): Promise<Buffer | undefined> {
  return readFile(avatarPath(dataDir, characterId)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}
