import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { placeholderPng } from '../../src/cards/export-card.js';
import { loadAvatar, saveAvatar } from '../../src/characters/avatars.js';

describe('stored avatars', () => {
  it('keeps a card picture as bytes under DATA_DIR and gives it back, nothing for a character without one', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'dreamchat-avatars-'));
    const id = '0b7c4a1e-5d2f-4c3b-9a8e-1f2d3c4b5a69';
    expect(await loadAvatar(dataDir, id)).toBeUndefined();
    const png = placeholderPng(8, [9, 8, 7]);
    await saveAvatar(dataDir, id, png);
    expect((await loadAvatar(dataDir, id))?.equals(png)).toBe(true);
    expect(await readdir(path.join(dataDir, 'avatars'))).toEqual([`${id}.png`]);
    await expect(loadAvatar(dataDir, '../../etc/passwd')).rejects.toThrow(/Not a character id/);
  });
});
