import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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

/** When the stored picture was last written (ms), to tell its versions apart in links; undefined without one. */
export async function avatarVersion(dataDir: string, characterId: string): Promise<number | undefined> {
  if (!isUuid(characterId)) return undefined;
  return stat(avatarPath(dataDir, characterId)).then(
    (file) => Math.floor(file.mtimeMs),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    },
  );
}

/** Forgets the stored picture (the character was given another one). */
export async function removeAvatar(dataDir: string, characterId: string): Promise<void> {
  await rm(avatarPath(dataDir, characterId), { force: true });
}
