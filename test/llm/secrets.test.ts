import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maskKey, SecretBox } from '../../src/llm/secrets.js';

const key = () => randomBytes(32).toString('base64');

describe('secrets', () => {
  it('round-trips a key and never stores it in the clear', () => {
    const box = SecretBox.fromConfig(`main:${key()}`);
    const sealed = box.encrypt('sk-proj-abcdef1234567890');
    expect(sealed).not.toContain('sk-proj');
    expect(sealed.startsWith('v1.main.')).toBe(true);
    expect(box.decrypt(sealed)).toBe('sk-proj-abcdef1234567890');
    expect(box.encrypt('same')).not.toBe(box.encrypt('same'));
  });

  it('refuses a tampered secret and a wrong key', () => {
    const box = SecretBox.fromConfig(`main:${key()}`);
    const sealed = box.encrypt('sk-secret');
    const parts = sealed.split('.');
    parts[4] = Buffer.from('sk-other!').toString('base64url');
    expect(() => box.decrypt(parts.join('.'))).toThrow(/altered, or the key is wrong/);
    const other = SecretBox.fromConfig(`main:${key()}`);
    expect(() => other.decrypt(sealed)).toThrow(/altered, or the key is wrong/);
    expect(() => SecretBox.fromConfig(`x:${key()}`).decrypt(sealed)).toThrow(/key "main", which is not in SECRET_KEYS/);
  });

  it('rotates: old secrets still open with the old key listed second, and are flagged for re-encryption', () => {
    const oldKey = key();
    const sealed = SecretBox.fromConfig(`old:${oldKey}`).encrypt('sk-rotate-me');
    const rotated = SecretBox.fromConfig(`new:${key()},old:${oldKey}`);
    expect(rotated.decrypt(sealed)).toBe('sk-rotate-me');
    expect(rotated.needsRotation(sealed)).toBe(true);
    const fresh = rotated.encrypt(rotated.decrypt(sealed));
    expect(rotated.needsRotation(fresh)).toBe(false);
  });

  it('accepts hex keys and rejects short ones', () => {
    const hex = randomBytes(32).toString('hex');
    expect(SecretBox.fromConfig(hex).decrypt(SecretBox.fromConfig(hex).encrypt('x'))).toBe('x');
    expect(() => SecretBox.fromConfig('k:c2hvcnQ=')).toThrow(/must be 32 bytes/);
  });

  it('masks keys for display', () => {
    expect(maskKey('sk-proj-abcdefghijklmnop1234')).toBe('sk-…1234');
    expect(maskKey('AIzaSyABCDEFG12345678')).toBe('…5678');
    expect(maskKey('short')).toBe('…');
  });
});
