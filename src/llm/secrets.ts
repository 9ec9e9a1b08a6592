import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * API keys at rest: AES-256-GCM (16-byte tags only) with a key from the
 * environment (SECRET_KEYS). A stored secret is
 * `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url), so several keys can be in
 * use while rotating. A key's id is the one given (`id:key`) or, without one,
 * derived from the key itself (`h` + 10 hex digits of its SHA-256), so the
 * order of the list never changes which key an id names:
 *
 *   1. put a new key first in SECRET_KEYS (`new:base64key,old:base64key`, or keys alone);
 *   2. restart: new secrets use the first key, old ones still decrypt;
 *   3. run `npm run rotate-secrets` to re-encrypt everything with the first key;
 *   4. remove the old key.
 *
 * Secrets written before ids were derived carry `k1`, `k2`… (their key's place
 * in the list then); they are opened by trying the keys given without an id,
 * which GCM's tag settles, and rotate-secrets re-encrypts them.
 */
export interface SecretKey {
  id: string;
  key: Buffer;
  /** Given without an id in SECRET_KEYS (its id derived from it). */
  derived?: boolean;
}

const TAG_BYTES = 16;
const LEGACY_ID = /^k\d+$/;

export class SecretBox {
  readonly #keys: SecretKey[];

  constructor(keys: SecretKey[]) {
    if (!keys.length) throw new Error('At least one secret key is needed.');
    for (const { id, key } of keys) {
      if (key.length !== 32) throw new Error(`Secret key "${id}" must be 32 bytes (base64 or hex of 32 random bytes).`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`Secret key id "${id}" may use letters, digits, _ and - only.`);
    }
    const hexes = keys.map((k) => k.key.toString('hex'));
    const twinKey = hexes.findIndex((hex, i) => hexes.indexOf(hex) !== i);
    if (twinKey >= 0) throw new Error(`The key "${keys[twinKey]!.id}" is listed twice: list each key once.`);
    const ids = keys.map((k) => k.id);
    const twinId = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twinId) throw new Error(`The id "${twinId}" is given to two keys: each key needs its own id.`);
    this.#keys = keys;
  }

  /** Parses SECRET_KEYS: `[id:]key[,[id:]key…]`, keys in base64 or hex; the first one encrypts. Throws on an ambiguous list. */
  static fromConfig(value: string): SecretBox {
    const keys = value.split(',').map((entry, index): SecretKey => {
      if (!entry.trim()) throw new Error(`Entry ${index + 1} is empty: separate keys with single commas.`);
      const labelled = entry.includes(':');
      const [id, encoded] = labelled ? entry.split(':', 2) : ['', entry];
      const text = encoded!.trim();
      const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
      return labelled ? { id: id!.trim(), key } : { id: derivedId(key), key, derived: true };
    });
    return new SecretBox(keys);
  }

  encrypt(plain: string): string {
    const { id, key } = this.#keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(id));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  decrypt(sealed: string): string {
    const [version, id, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !id || !iv || !tag || body === undefined) throw new Error('Not an encrypted secret.');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (tagBytes.length !== TAG_BYTES) throw new Error('The secret could not be decrypted: it was altered (its tag is not 16 bytes).');
    const named = this.#keys.find((candidate) => candidate.id === id);
    const candidates = named ? [named] : LEGACY_ID.test(id) ? this.#keys.filter((k) => k.derived) : [];
    if (!candidates.length) throw new Error(`The secret was encrypted with key "${id}", which is not in SECRET_KEYS.`);
    for (const { key } of candidates) {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(tagBytes);
      try {
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        // Another candidate may be the one.
      }
    }
    throw new Error('The secret could not be decrypted: it was altered, or the key is wrong.');
  }

  /** True when `sealed` is encrypted with a key other than the current first one. */
  needsRotation(sealed: string): boolean {
    return sealed.split('.')[1] !== this.#keys[0]!.id;
  }
}

/** A key's id when SECRET_KEYS gives none: from the key itself, so it never depends on the key's place in the list. */
function derivedId(key: Buffer): string {
  return `h${createHash('sha256').update(key).digest('hex').slice(0, 10)}`;
}

/** Shows a key without revealing it: `sk-…abcd`. */
export function maskKey(key: string): string {
  const trimmed = key.trim();
  if (trimmed.length <= 8) return '…';
  const prefix = /^[a-z]{2,8}-/i.exec(trimmed)?.[0] ?? '';
  return `${prefix}…${trimmed.slice(-4)}`;
}
