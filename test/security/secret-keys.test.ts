import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { LlmProviderInstance } from '../../src/db/entities/index.js';
import { reencryptStoredKeys } from '../../src/llm/instances.js';
import { SecretBox } from '../../src/llm/secrets.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * SECRET_KEYS cannot be misread: a key's id never depends on its place in the list (putting a new key first used to
 * rename the old one, so every stored key became unreadable and rotate-secrets re-encrypted none), an ambiguous list
 * stops the start naming the variable, rotate-secrets re-encrypts every stored key, and GCM tags must be 16 bytes.
 */
const key = () => randomBytes(32).toString('base64');
let db: TestDatabase;
const em = () => db.orm.em.fork();

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.close();
});

describe('SECRET_KEYS', () => {
  it('keeps opening secrets when a new key without an id is put first', () => {
    const [oldKey, newKey] = [key(), key()];
    const sealed = SecretBox.fromConfig(oldKey).encrypt('sk-stored-before');
    const rotated = SecretBox.fromConfig(`${newKey},${oldKey}`);
    expect(rotated.decrypt(sealed)).toBe('sk-stored-before');
    expect(rotated.needsRotation(sealed)).toBe(true);
    expect(rotated.needsRotation(rotated.encrypt('x'))).toBe(false);
  });

  it('opens secrets stored by older versions under positional ids (k1, k2…) whatever the order now', () => {
    const [oldKey, newKey] = [key(), key()];
    // What older versions wrote for a key given without an id: its place in the list, "k1".
    const legacy = new SecretBox([{ id: 'k1', key: Buffer.from(oldKey, 'base64') }]).encrypt('sk-legacy');
    expect(SecretBox.fromConfig(`${newKey},${oldKey}`).decrypt(legacy)).toBe('sk-legacy');
    expect(() => SecretBox.fromConfig(newKey).decrypt(legacy)).toThrow(/could not be decrypted/);
  });

  it('refuses to start on an ambiguous list, naming the variable', () => {
    const one = key();
    for (const [value, reason] of [
      [`a:${one},a:${key()}`, 'The id "a" is given to two keys'],
      [`a:${one},b:${one}`, 'is listed twice'],
      [`${one},${one}`, 'is listed twice'],
      [`${one},,${key()}`, 'Entry 2 is empty'],
      [`a:c2hvcnQ=`, 'must be 32 bytes'],
    ] as const) {
      const attempt = () => loadConfig({ SECRET_KEYS: value });
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(new RegExp(`SECRET_KEYS: .*${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
    expect(loadConfig({ SECRET_KEYS: `new:${key()},${key()}` }).secrets.keys).toBeDefined();
  });

  it('refuses GCM tags shorter than 16 bytes', () => {
    const box = SecretBox.fromConfig(`main:${key()}`);
    const [v, id, iv, tag, body] = box.encrypt('sk-tagged').split('.');
    const short = Buffer.from(tag!, 'base64url').subarray(0, 4).toString('base64url');
    expect(() => box.decrypt([v, id, iv, short, body].join('.'))).toThrow('its tag is not 16 bytes');
    expect(box.decrypt([v, id, iv, tag, body].join('.'))).toBe('sk-tagged');
  });

  it('rotate-secrets re-encrypts every stored key, so the old key can go', async () => {
    const [oldKey, newKey] = [key(), key()];
    const before = SecretBox.fromConfig(oldKey);
    const legacy = new SecretBox([{ id: 'k1', key: Buffer.from(oldKey, 'base64') }]);
    const stranger = SecretBox.fromConfig(key());
    const fork = em();
    for (const [name, apiKey] of [
      ['Derived', before.encrypt('sk-derived')],
      ['Legacy', legacy.encrypt('sk-legacy')],
      ['Lost', stranger.encrypt('sk-lost')],
    ] as const) {
      fork.create(LlmProviderInstance, {
        scope: 'system',
        providerType: 'openai',
        displayName: name,
        config: { apiKey },
        isDefault: false,
      });
    }
    await fork.flush();
    const both = SecretBox.fromConfig(`${newKey},${oldKey}`);
    const result = await reencryptStoredKeys(em(), both);
    expect(result.rotated).toBe(2);
    expect(result.unreadable).toEqual([expect.stringMatching(/^Lost \(/)]);
    const onlyNew = SecretBox.fromConfig(newKey);
    const rows = await em().find(LlmProviderInstance, { displayName: { $in: ['Derived', 'Legacy'] } }, { orderBy: { displayName: 'asc' } });
    expect(rows.map((row) => onlyNew.decrypt((row.config as { apiKey: string }).apiKey))).toEqual(['sk-derived', 'sk-legacy']);
    expect((await reencryptStoredKeys(em(), both)).rotated).toBe(0);
  });
});
