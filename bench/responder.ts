/**
 * The bot's own overhead from a received message to the provider request
 * being sent: store the message, recall from pgvector, resolve the provider,
 * build the prompt. The provider is a fake on loopback; the query embedding
 * (hashing embedder) is timed separately and left out, as the target says.
 */
import { MikroORM } from '@mikro-orm/postgresql';
import pgvector from 'pgvector';
import { createOrmOptions } from '../mikro-orm.config.js';
import { createCharacter } from '../src/characters/characters.js';
import { bindCharacter } from '../src/chat/conversations.js';
import { Responder } from '../src/chat/responder.js';
import { loadConfig } from '../src/config.js';
import { resolveActor } from '../src/core/identity.js';
import { migrateUp } from '../src/db/database.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { HashingEmbedder } from '../src/embeddings/hashing-embedder.js';
import { ProviderRegistry, seedSystemInstances } from '../src/llm/registry.js';
import { createLogger } from '../src/logger.js';
import { startFakeOpenAI } from '../test/fakes-llm/openai.js';
import { recordingSinks } from '../test/support/recording-sink.js';
import { summary } from './stats.js';

const DIMENSION = 384;
/** Sentences per conversation memory (an exchange of a person's message and the reply holds 3 to 6). */
const PIECES = 4;

export default async function run(args: string[]): Promise<Record<string, unknown>> {
  const sizes = (args[0] ?? '10000,100000').split(',').map(Number);
  const runs = Number(args[1] ?? 200);
  const logger = createLogger('silent');
  const serverUrl = process.env.DATABASE_URL;
  const embedded = serverUrl ? undefined : await startEmbeddedPostgres({ logger });
  let url = embedded?.url ?? serverUrl!;
  if (serverUrl) {
    const admin = await MikroORM.init(createOrmOptions({ clientUrl: serverUrl, embeddingDimension: DIMENSION, poolSize: 1 }));
    await admin.em.execute('drop database if exists dreamchat_bench with (force)', [], 'run');
    await admin.em.execute('create database dreamchat_bench', [], 'run');
    await admin.close();
    const parsed = new URL(serverUrl);
    parsed.pathname = '/dreamchat_bench';
    url = parsed.toString();
  }
  const orm = await MikroORM.init(createOrmOptions({ clientUrl: url, embeddingDimension: DIMENSION, poolSize: embedded ? 1 : 4 }));
  await migrateUp(orm);
  const fake = await startFakeOpenAI();
  fake.reply('Ok.');
  const config = loadConfig({ OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'bench-model' });
  await seedSystemInstances(orm.em.fork(), config);
  const providers = new ProviderRegistry({ config });
  const hashing = new HashingEmbedder(DIMENSION);
  const embedTimes: number[] = [];
  const embedder = {
    id: hashing.id,
    dimension: DIMENSION,
    embed: async (texts: string[]) => {
      const started = performance.now();
      const vectors = await hashing.embed(texts);
      embedTimes.push(performance.now() - started);
      return vectors;
    },
  };
  const responder = new Responder({
    orm,
    embedder,
    resolveModel: (request) => providers.resolve(orm.em.fork(), request),
    logger,
  });
  const guild = { id: '990000000000000001', name: 'Bench' };
  const author = { id: '990000000000000002', username: 'bencher' };
  const em = orm.em.fork();
  const actor = await resolveActor(em, { user: author, guild });
  const characters = [];
  for (let i = 0; i < 50; i++)
    characters.push(await createCharacter(em, actor, { name: `Bench ${i}`, personalityPrompt: 'A bench character.' }));
  const character = characters[0]!;
  const conversation = await bindCharacter(em, actor, { id: '990000000000000003', kind: 'thread' }, character);

  const results: Record<string, unknown> = { runsPerSize: runs, database: embedded ? 'embedded PGlite' : 'PostgreSQL 15 + pgvector' };
  let inserted = 0;
  for (const size of sizes) {
    inserted += await fillMemories(
      orm,
      size - inserted,
      characters.map((c) => c.id),
      conversation.id,
    );
    await fillPieces(orm);
    // As autovacuum leaves a table after bulk inserts (and as the retrieval bench measures): visibility map set,
    // so the scope counts are index-only; statistics current for the messages the earlier size added.
    await orm.em.fork().execute('vacuum analyze vector_memories', [], 'run');
    await orm.em.fork().execute('vacuum analyze memory_pieces', [], 'run');
    await orm.em.fork().execute('analyze messages', [], 'run');
    const overhead: number[] = [];
    embedTimes.length = 0;
    for (let i = 0; i < runs + 20; i++) {
      const before = fake.requests.length;
      const started = performance.now();
      const embedsBefore = embedTimes.length;
      await responder.onMessage(
        {
          channelId: '990000000000000003',
          author,
          guild,
          content: `Question ${i}: what do you remember about the harbour?`,
          addressed: true,
        },
        recordingSinks(),
      );
      const request = fake.requests[before]!;
      const embedMs = embedTimes.slice(embedsBefore).reduce((a, b) => a + b, 0);
      if (i >= 20) overhead.push(request.arrivedAt - started - embedMs);
    }
    results[`memories_${size}`] = { overheadMs: summary(overhead), queryEmbeddingMs: summary(embedTimes.slice(20)) };
    console.log(`${size} memories:`, JSON.stringify(results[`memories_${size}`]));
  }
  await fake.close();
  await orm.close();
  await embedded?.close();
  return results;
}

/**
 * Sentences of every conversation memory that has none yet (PIECES each, random vectors), as memorize stores them:
 * a memory's pieces side by side (memorize writes them in one statement). Unordered, the planner wrote every
 * memory's first piece, then every second one, and a scope's 4,000 pieces took 4,000 heap pages to read.
 */
async function fillPieces(orm: MikroORM): Promise<void> {
  const em = orm.em.fork();
  // Inserted without the HNSW index, which is built once afterwards (as reembed does).
  await em.execute('drop index if exists idx_memory_pieces_embedding', [], 'run');
  await em.execute(
    `insert into memory_pieces (memory_id, content, embedding)
     select m.id, m.content || ', sentence ' || g,
            (select array_agg(random() - 0.5) from generate_series(1, ${DIMENSION}) d where g > 0 and m.id is not null)::vector
       from vector_memories m cross join generate_series(1, ${PIECES}) g
      where m.memory_type = 'conversation' and not exists (select 1 from memory_pieces p where p.memory_id = m.id)
      order by m.id, g`,
    [],
    'run',
  );
  // With the memory to build the graph in RAM (the default 64 MB takes minutes at 200k pieces).
  await em.transactional(async (tx) => {
    await tx.execute(`set local maintenance_work_mem = '1GB'`, [], 'run');
    await tx.execute('set local max_parallel_maintenance_workers = 2', [], 'run');
    await tx.execute('create index idx_memory_pieces_embedding on memory_pieces using hnsw (embedding vector_cosine_ops)', [], 'run');
  });
}

/** Synthetic memories: knowledge spread over 50 characters, conversation memories over 100 conversations. */
async function fillMemories(orm: MikroORM, count: number, characterIds: string[], conversationId: string): Promise<number> {
  const em = orm.em.fork();
  let seed = count;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let done = 0; done < count; done += 1000) {
    const rows = Math.min(1000, count - done);
    const values: string[] = [];
    const params: unknown[] = [];
    for (let i = 0; i < rows; i++) {
      const knowledge = (done + i) % 2 === 0;
      values.push('(?, ?, ?, ?, ?)');
      params.push(
        `memory ${done + i}`,
        pgvector.toSql(Array.from({ length: DIMENSION }, () => random() - 0.5)),
        knowledge ? 'character' : 'conversation',
        knowledge ? characterIds[(done + i) % characterIds.length] : null,
        knowledge ? null : (done + i) % 100 === 1 ? conversationId : null,
      );
    }
    // Conversation memories of other conversations have no row to point at here; give them our character instead.
    for (let i = 0; i < rows; i++) {
      if (params[i * 5 + 2] === 'conversation' && params[i * 5 + 4] === null)
        params[i * 5 + 3] = characterIds[(done + i) % characterIds.length];
    }
    await em.execute(
      `insert into vector_memories (content, embedding, memory_type, character_id, conversation_id) values ${values.join(', ')}`,
      params,
      'run',
    );
  }
  return count;
}
