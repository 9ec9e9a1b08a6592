import { ConfigError } from '../config.js';
import { openDatabase } from '../db/database.js';
import { LlmProviderInstance } from '../db/entities/index.js';
import { exitWith, startProcess } from '../process.js';
import type { ProviderConfig } from './create-provider.js';
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
    const em = database.orm.em.fork();
    let rotated = 0;
    await em.transactional(async (tx) => {
      for (const instance of await tx.find(LlmProviderInstance, {})) {
        const stored = instance.config as ProviderConfig;
        if (!stored.apiKey || !secrets.needsRotation(stored.apiKey)) continue;
        instance.config = { ...stored, apiKey: secrets.encrypt(secrets.decrypt(stored.apiKey)) };
        rotated += 1;
      }
    });
    logger.info({ rotated }, 'API keys re-encrypted with the first key of SECRET_KEYS');
  } finally {
    await database.close();
  }
}

main().catch(exitWith);
