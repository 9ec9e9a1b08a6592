import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { migrateDown, migrateUp, openDatabase } from './database.js';

/** `npm run migrate` (up) and `npm run migrate:down` (the last migration, or `-- --all`). */
async function main(argv: string[]): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const command = argv[0] ?? 'up';
  const database = await openDatabase(config, logger);
  try {
    if (command === 'up') {
      const names = await migrateUp(database.orm, { concurrent: true });
      logger.info({ applied: names }, names.length ? 'migrations applied' : 'database is up to date');
    } else if (command === 'down') {
      const names = await migrateDown(database.orm, argv.includes('--all') ? { to: 0 } : {});
      logger.info({ reverted: names }, 'migrations reverted');
    } else {
      throw new Error(`Unknown command "${command}": use up or down.`);
    }
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
