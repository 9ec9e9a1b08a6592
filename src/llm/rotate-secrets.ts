import { ConfigError } from '../config.js';
import { openDatabase } from '../db/database.js';
import { exitWith, startProcess } from '../process.js';
import { reencryptStoredKeys } from './instances.js';
import { SecretBox } from './secrets.js';

/**
 * `npm run rotate-secrets`: re-encrypts every stored API key with the first
 * key of SECRET_KEYS. Put the new key first, keep the old one after it, run
 * this, then remove the old key.
 */
async function main(): Promise<void> {
  const { config, logger } = startProcess('rotate-secrets');
  if (!config.secrets.keys) throw new ConfigError('SECRET_KEYS is not set: there is nothing to rotate to.');
  const secrets = SecretBox.fromConfig(config.secrets.keys);
  const database = await openDatabase(config, logger);
  try {
    const { rotated, unreadable } = await reencryptStoredKeys(database.orm.em.fork(), secrets);
    if (unreadable.length) logger.warn({ unreadable }, 'these API keys open with no key of SECRET_KEYS and were left as they are');
    logger.info({ rotated }, 'API keys re-encrypted with the first key of SECRET_KEYS');
  } finally {
    await database.close();
  }
}

main().catch(exitWith);
