import { migrateUp, openDatabase } from '../db/database.js';
import { createEmbedder } from '../embeddings/create-embedder.js';
import { exitWith, startProcess } from '../process.js';
import { reembedAll } from './reembed.js';

/**
 * `npm run reembed`: after changing EMBEDDER, EMBEDDING_MODEL or
 * EMBEDDING_DIMENSION, re-embeds every stored memory with the new embedder
 * (resizing the vector column when the dimension changed). Stop the bot and
 * workers first; run it again to finish if it is interrupted.
 */
async function main(): Promise<void> {
  const { config, logger } = startProcess('reembed');
  const embedder = createEmbedder(config);
  const database = await openDatabase(config, logger);
  try {
    await migrateUp(database.orm);
    const started = Date.now();
    let reported = 0;
    const result = await reembedAll(database.orm.em.fork(), embedder, {
      onProgress: ({ done, total }) => {
        if (done - reported < 1000 && done < total) return;
        reported = done;
        logger.info({ done, total }, 're-embedding');
      },
    });
    logger.info(
      { ...result, embedder: embedder.id, seconds: Math.round((Date.now() - started) / 1000) },
      'every memory is embedded with the current embedder',
    );
  } finally {
    await embedder.close?.();
    await database.close();
  }
}

main().catch(exitWith);
