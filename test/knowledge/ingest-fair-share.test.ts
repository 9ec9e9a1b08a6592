import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { CharacterKnowledge, type ICharacter } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { chunkDocument } from '../../src/knowledge/chunk.js';
import { extractText } from '../../src/knowledge/extract.js';
import { ingestHandler } from '../../src/knowledge/ingest-job.js';
import { addKnowledge, INGEST_QUEUE, requeueUnfinished } from '../../src/knowledge/knowledge.js';
import { guardedFetch } from '../../src/llm/endpoint-guard.js';
import { createLogger } from '../../src/logger.js';
import { createJobQueue } from '../../src/queue/create-job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Issue 16, items 5 and 8: one server's backlog of slow files must not hold up learning in every other server.
 * Server A queues four files whose downloads hang until the test lets them go; server B then queues one. With one
 * ingest slot, B's file is learned right after A's first, before the rest of A's backlog. Runs on BullMQ when
 * REDIS_URL is set, in-process otherwise.
 */
const DIMENSION = 32;
let db: TestDatabase;
let queue: JobQueue;
let server: Server;
let base = '';
/** File paths in the order the ingest job asked for them. */
const requested: string[] = [];
let release!: () => void;
const held = new Promise<void>((resolve) => (release = resolve));
const em = () => db.orm.em.fork();

async function serverActor(guildId: string, userId: string): Promise<{ actor: Actor; character: ICharacter }> {
  const actor = await resolveActor(em(), { user: { id: userId, username: `u${userId.slice(-3)}` }, guild: { id: guildId } });
  const character = await createCharacter(em(), actor, {
    name: `Scribe ${guildId.slice(-3)}`,
    personalityPrompt: 'Reads.',
    visibility: 'guild',
  });
  return { actor, character };
}

function add(who: { actor: Actor; character: ICharacter }, name: string) {
  return addKnowledge(em(), queue, who.actor, who.character, {
    url: `${base}/${name}.txt`,
    name,
    sourceName: `${name}.txt`,
    sourceType: 'file',
  });
}

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  server = createServer(async (request, response) => {
    const name = (request.url ?? '').slice(1).replace(/\.txt$/, '');
    requested.push(name);
    if (name.startsWith('a')) await held;
    response.writeHead(200, { 'content-type': 'text/plain' }).end(`${name}: a page about lighthouses and the keepers who lived in them.`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  queue = createJobQueue({
    redisUrl: process.env.REDIS_URL,
    logger: createLogger('silent'),
    prefix: `dreamchat-test-${randomBytes(4).toString('hex')}`,
  });
});

afterAll(async () => {
  release?.();
  await queue?.close();
  server?.close();
  await db?.close();
});

describe('ingest fair share between servers', () => {
  it("learns server B's one file before server A's backlog", async () => {
    const a = await serverActor('160000000000000001', '160000000000000011');
    const b = await serverActor('160000000000000002', '160000000000000022');
    queue.process(
      INGEST_QUEUE,
      ingestHandler({
        orm: db.orm,
        embedder: new HashingEmbedder(DIMENSION),
        extract: extractText,
        chunk: (extracted) => chunkDocument(extracted, { maxTokens: 128, overlapTokens: 16 }),
        fetch: guardedFetch({ allowPrivate: true }),
        limits: { maxBytes: 1024 * 1024, timeoutMs: 60_000, maxUnpackedBytes: 10 * 1024 * 1024 },
        attempts: 1,
      }),
      { concurrency: 1 },
    );
    const aItems = [];
    for (const name of ['a1', 'a2', 'a3', 'a4']) aItems.push(await add(a, name));
    // A's first file holds the only slot; the other three wait.
    await waitFor(async () => requested.includes('a1'), "A's first download to start");
    const bItem = await add(b, 'b1');
    // Queued again after a restart, the order holds (same job ids: no job runs twice).
    expect(await requeueUnfinished(em(), queue)).toBe(5);
    release();
    for (const item of [...aItems, bItem]) {
      await waitFor(
        async () => (await em().findOneOrFail(CharacterKnowledge, item.id)).status === 'completed',
        `${item.name} to be learned`,
        30_000,
      );
    }
    expect(requested).toEqual(['a1', 'b1', 'a2', 'a3', 'a4']);
  });
});
