import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { CharacterKnowledge, type ICharacter } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { chunkDocument } from '../../src/knowledge/chunk.js';
import { extractText } from '../../src/knowledge/extract.js';
import { ingestHandler } from '../../src/knowledge/ingest-job.js';
import { addKnowledge, DEFAULT_KNOWLEDGE_LIMITS, INGEST_QUEUE } from '../../src/knowledge/knowledge.js';
import { extractPdf } from '../../src/knowledge/pdf-text.js';
import { guardedFetch } from '../../src/llm/endpoint-guard.js';
import { createLogger } from '../../src/logger.js';
import { createJobQueue } from '../../src/queue/create-job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { MemoryJobQueue } from '../../src/queue/memory-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait-for.js';
import { zipBomb } from '../support/zip-bomb.js';

/**
 * Files built to exhaust the worker end through the ingest job with the reason in plain words: a DOCX whose zip
 * declares tiny sizes but inflates to 300 MB, PDFs with too many pages, too much text or too slow to read, and a PDF
 * read stopped by the job's abort signal. The PDF is read in a worker thread, so the process stays responsive.
 */
const DIMENSION = 64;
const LIMITS = { maxBytes: 4 * 1024 * 1024, timeoutMs: 5000, maxUnpackedBytes: 50 * 1024 * 1024, maxPdfPages: 50, maxTextChars: 20_000 };
let db: TestDatabase;
let queue: JobQueue;
let server: Server;
let base = '';
let actor: Actor;
let character: ICharacter;
const files = new Map<string, Buffer>();
const em = () => db.orm.em.fork();

async function pdf(pages: number, text: (page: number) => string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= pages; n++) {
    const page = doc.addPage();
    const lines = text(n).match(/.{1,90}(\s|$)/g) ?? [];
    lines.slice(0, 50).forEach((line, i) => page.drawText(line.trim(), { x: 30, y: 800 - i * 15, size: 9, font }));
  }
  return Buffer.from(await doc.save());
}

/** Queues a file through addKnowledge and waits for the job to end; returns the item and how long it took. */
async function learn(name: string, body: Buffer) {
  const path = `/${randomBytes(4).toString('hex')}/${name}`;
  files.set(path, body);
  const started = Date.now();
  const item = await addKnowledge(em(), queue, actor, character, {
    url: `${base}${path}`,
    name,
    sourceName: name,
    sourceType: 'file',
    size: body.length,
  });
  const done = await waitFor(
    async () => {
      const row = await em().findOneOrFail(CharacterKnowledge, item.id);
      return /completed|failed/.test(row.status) ? row : undefined;
    },
    `${name} to be learned or refused`,
    60_000,
  );
  return { item: done, ms: Date.now() - started, reason: String((done.processingInfo as { error?: string } | null)?.error ?? '') };
}

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  server = createServer((request, response) => {
    const body = files.get(request.url ?? '');
    if (!body) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  queue = createJobQueue({
    redisUrl: process.env.REDIS_URL,
    logger: createLogger('silent'),
    prefix: `dreamchat-test-${randomBytes(4).toString('hex')}`,
  });
  queue.process(
    INGEST_QUEUE,
    ingestHandler({
      orm: db.orm,
      embedder: new HashingEmbedder(DIMENSION),
      extract: extractText,
      chunk: (extracted) => chunkDocument(extracted, { maxTokens: 128, overlapTokens: 16 }),
      fetch: guardedFetch({ allowPrivate: true }),
      limits: LIMITS,
      attempts: 1,
    }),
    { concurrency: 1 },
  );
  actor = await resolveActor(em(), { user: { id: '150000000000000016', username: 'uploader' } });
  character = await createCharacter(em(), actor, { name: 'Archivist', personalityPrompt: 'Reads everything.' });
});

afterAll(async () => {
  await queue?.close();
  server?.close();
  await db?.close();
});

describe('bounded extraction', () => {
  it('stops a DOCX whose zip declares 1.5 KB but inflates to 300 MB, counting what really comes out', async () => {
    const bomb = zipBomb({ declaredBytes: 1500, inflatedMb: 300 });
    expect(bomb.length).toBeLessThan(LIMITS.maxBytes);
    const heapBefore = process.memoryUsage().rss;
    const { item, reason, ms } = await learn('report.docx', bomb);
    expect(item.status).toBe('failed');
    expect(reason).toBe('That DOCX unpacks to far more than it says it does (a “zip bomb”), so it was not opened.');
    // Nothing near 300 MB was held: the bytes were counted and dropped as they came.
    expect(process.memoryUsage().rss - heapBefore).toBeLessThan(150 * 1024 * 1024);
    console.log(`zip bomb (1.5 KB declared, 300 MB inside) refused in ${ms} ms`);
  }, 90_000);

  it('refuses a PDF with more pages than allowed, saying how many', async () => {
    const { item, reason } = await learn('tome.pdf', await pdf(60, (n) => `Page ${n}.`));
    expect(item.status).toBe('failed');
    expect(reason).toBe('That PDF has 60 pages; at most 50 can be learned from one file. Split it into smaller files.');
  }, 90_000);

  it('refuses a PDF with more text than allowed', async () => {
    const { item, reason } = await learn('dense.pdf', await pdf(30, (n) => `Page ${n} says: ${'lorem ipsum dolor sit amet '.repeat(30)}`));
    expect(item.status).toBe('failed');
    expect(reason).toMatch(/^That PDF holds more than 20,000 characters of text \(reached by page \d+\)\. Split it into smaller files\.$/);
  }, 90_000);

  it('still learns an ordinary PDF', async () => {
    const { item } = await learn('guide.pdf', await pdf(3, (n) => `The lighthouse keeper's log, page ${n}: the lamp was lit at dusk.`));
    expect(item.status).toBe('completed');
  }, 90_000);

  it('stops reading a PDF that takes too long, and keeps the process responsive meanwhile', async () => {
    const big = await pdf(400, (n) => `Page ${n}: ${'the tide came in and went out again '.repeat(8)}`);
    let worstLag = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      worstLag = Math.max(worstLag, now - last - 10);
      last = now;
    }, 10);
    try {
      await expect(
        extractPdf(big, { maxUnpackedBytes: 0, maxPdfPages: 1000, maxTextChars: 10_000_000, pdfTimeoutMs: 150 }),
      ).rejects.toThrow('That PDF took longer than 1 s to read, so it was stopped. Split it into smaller files.');
    } finally {
      clearInterval(ticker);
    }
    // The reading happened in a worker thread: the event loop here never stalled for long.
    expect(worstLag).toBeLessThan(500);
  }, 60_000);

  it('stops reading a PDF when the job is aborted', async () => {
    const big = await pdf(400, (n) => `Page ${n}: ${'the wind turned north at noon '.repeat(8)}`);
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(new Error('the job lost its lock')), 50);
    await expect(extractPdf(big, { maxUnpackedBytes: 0, maxPdfPages: 1000, maxTextChars: 10_000_000 }, abort.signal)).rejects.toThrow(
      'the job lost its lock',
    );
    expect(Date.now() - started).toBeLessThan(5000);
  }, 60_000);

  it("lets one person hold only part of a server's ingest slots, so others can still add files", async () => {
    const idle = new MemoryJobQueue({ logger: createLogger('silent') });
    const guild = { id: '150000000000001600', name: 'Commons' };
    const greedy = await resolveActor(em(), { user: { id: '150000000000001601', username: 'greedy' }, guild, isGuildAdmin: true });
    const other = await resolveActor(em(), { user: { id: '150000000000001602', username: 'other' }, guild, isGuildAdmin: true });
    const shared = await createCharacter(em(), greedy, { name: 'Commoner', personalityPrompt: 'Shared by all.', visibility: 'guild' });
    const file = (n: number) => ({
      url: `${base}/slot-${n}.pdf`,
      name: `slot-${n}`,
      sourceName: `slot-${n}.pdf`,
      sourceType: 'file' as const,
      size: 10,
    });
    for (let n = 1; n <= DEFAULT_KNOWLEDGE_LIMITS.maxInFlightPerPerson; n++) await addKnowledge(em(), idle, greedy, shared, file(n));
    await expect(addKnowledge(em(), idle, greedy, shared, file(99))).rejects.toThrow(
      `You already have ${DEFAULT_KNOWLEDGE_LIMITS.maxInFlightPerPerson} files being learned in this server; one person may have ${DEFAULT_KNOWLEDGE_LIMITS.maxInFlightPerPerson} at once`,
    );
    await expect(addKnowledge(em(), idle, other, shared, file(100))).resolves.toMatchObject({ status: 'pending' });
    expect(DEFAULT_KNOWLEDGE_LIMITS.maxInFlightPerPerson).toBeLessThan(DEFAULT_KNOWLEDGE_LIMITS.maxInFlightPerGuild);
    await idle.close();
  });
});
