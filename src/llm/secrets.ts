import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * API keys at rest: AES-256-GCM with a key from the environment
 * (SECRET_KEYS). A stored secret is `v1.<key id>.<iv>.<tag>.<ciphertext>`
 * (base64url), so several keys can be in use while rotating:
 *
 *   1. put a new key first in SECRET_KEYS (`newid:base64key,oldid:base64key`);
 *   2. restart: new secrets use the first key, old ones still decrypt;
 *   3. run `npm run rotate-secrets` to re-encrypt everything with the first key;
 *   4. remove the old key.
 */
export interface SecretKey {
  id: string;
  key: Buffer;
}

export class SecretBox {
  readonly #keys: SecretKey[];

  constructor(keys: SecretKey[]) {
    if (!keys.length) throw new Error('At least one secret key is needed.');
    for (const { id, key } of keys) {
      if (key.length !== 32) throw new Error(`Secret key "${id}" must be 32 bytes (base64 or hex of 32 random bytes).`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`Secret key id "${id}" may use letters, digits, _ and - only.`);
    }
    this.#keys = keys;
  }

  /** Parses SECRET_KEYS: `id:key[,id:key…]`, keys in base64 or hex; the first one encrypts. */
  static fromConfig(value: string): SecretBox {
    const keys = value.split(',').map((entry, index) => {
      const [id, encoded] = entry.includes(':') ? entry.split(':', 2) : [`k${index + 1}`, entry];
      const text = encoded!.trim();
      const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
      return { id: id!.trim(), key };
    });
    return new SecretBox(keys);
  }

  encrypt(plain: string): string {
    const { id, key } = this.#keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(id));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  decrypt(sealed: string): string {
    const [version, id, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !id || !iv || !tag || body === undefined) throw new Error('Not an encrypted secret.');
    const secret = this.#keys.find((candidate) => candidate.id === id);
    if (!secret) throw new Error(`The secret was encrypted with key "${id}", which is not in SECRET_KEYS.`);
    const decipher = createDecipheriv('aes-256-gcm', secret.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('The secret could not be decrypted: it was altered, or the key is wrong.');
    }
  }

  /** True when `sealed` is encrypted with a key other than the current first one. */
  needsRotation(sealed: string): boolean {
    return sealed.split('.')[1] !== this.#keys[0]!.id;
  }
}

/** Shows a key without revealing it: `sk-…abcd`. */
export function maskKey(key: string): string {
  const trimmed = key.trim();
  if (trimmed.length <= 8) return '…';
  const prefix = /^[a-z]{2,8}-/i.exec(trimmed)?.[0] ?? '';
  return `${prefix}…${trimmed.slice(-4)}`;
}
