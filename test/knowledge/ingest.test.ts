import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Document, Packer, Paragraph } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { CharacterKnowledge, VectorMemory, type ICharacter } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { chunkDocument } from '../../src/knowledge/chunk.js';
import { extractText } from '../../src/knowledge/extract.js';
import { ingestHandler } from '../../src/knowledge/ingest-job.js';
import { addKnowledge, DEFAULT_KNOWLEDGE_LIMITS, INGEST_QUEUE, removeKnowledge, searchKnowledge } from '../../src/knowledge/knowledge.js';
import { guardedFetch } from '../../src/llm/endpoint-guard.js';
import { createLogger } from '../../src/logger.js';
import { createJobQueue } from '../../src/queue/create-job-queue.js';
import { MemoryJobQueue } from '../../src/queue/memory-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { zipBomb } from '../support/zip-bomb.js';
import { jobContext } from '../support/job-context.js';

const DIMENSION = 256;
let db: TestDatabase;
let queue: JobQueue;
let server: Server;
let base = '';
let actor: Actor;
let character: ICharacter;
const files = new Map<string, { body: Buffer | 'stall'; type?: string }>();
const embedder = new HashingEmbedder(DIMENSION);
const em = () => db.orm.em.fork();

async function pdf(pages: string[]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const text of pages) {
    const page = doc.addPage();
    text.match(/.{1,80}(\s|$)/g)!.forEach((line, i) => page.drawText(line.trim(), { x: 40, y: 780 - i * 14, size: 10, font }));
  }
  return Buffer.from(await doc.save());
}

async function docx(paragraphs: string[]): Promise<Buffer> {
  const doc = new Document({ sections: [{ children: paragraphs.map((text) => new Paragraph(text)) }] });
  return Packer.toBuffer(doc);
}

async function learn(name: string, body: Buffer | 'stall', size?: number) {
  const path = `/${randomBytes(4).toString('hex')}/${name}`;
  files.set(path, { body });
  const item = await addKnowledge(em(), queue, actor, character, {
    url: `${base}${path}`,
    name,
    sourceName: name,
    sourceType: 'file',
    size: size ?? (body === 'stall' ? undefined : body.length),
  });
  await expect
    .poll(async () => (await em().findOneOrFail(CharacterKnowledge, item.id)).status, { timeout: 20_000 })
    .toMatch(/completed|failed/);
  return em().findOneOrFail(CharacterKnowledge, item.id);
}

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  server = createServer((request, response) => {
    const file = files.get(request.url ?? '');
    if (!file) return void response.writeHead(404).end();
    if (file.body === 'stall') {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.write('partial');
      return;
    }
    response.writeHead(200, { 'content-length': file.body.length }).end(file.body);
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
      embedder,
      extract: extractText,
      chunk: (extracted) => chunkDocument(extracted, { maxTokens: 128, overlapTokens: 16 }),
      fetch: guardedFetch({ allowPrivate: true }),
      limits: { maxBytes: 2 * 1024 * 1024, timeoutMs: 1500, maxUnpackedBytes: 50 * 1024 * 1024 },
      attempts: 1,
    }),
    { concurrency: 2 },
  );
  actor = await resolveActor(em(), { user: { id: '150000000000000001', username: 'owner' } });
  character = await createCharacter(em(), actor, { name: 'Scholar', personalityPrompt: 'Knows many documents.' });
});
afterAll(async () => {
  await queue?.close();
  server?.close();
  await db?.close();
});

describe('knowledge ingestion end to end', () => {
  it('learns a real PDF with page numbers, a DOCX, HTML, Markdown, CSV and a card lorebook', async () => {
    const items = await Promise.all([
      learn(
        'harbour.pdf',
        await pdf([
          'The harbour master of Veyra is named Corwin Hale and he keeps a pet otter.',
          'On page two: the harbour closes during the winter storms.',
        ]),
      ),
      learn('recipes.docx', await docx(['Grandmother Ilsa bakes saffron bread every midwinter.', 'The secret ingredient is cardamom.'])),
      learn(
        'page.html',
        Buffer.from(
          '<html><head><script>alert(1)</script><style>p{}</style></head><body><nav>menu</nav><p>The observatory on Mount Pell has a brass telescope.</p></body></html>',
        ),
      ),
      learn(
        'notes.md',
        Buffer.from('# Dragons\n\nThe silver dragon Aurith sleeps under the glacier.\n\n## Elves\n\nElves of Lindor sing at dawn.'),
      ),
      learn('crew.csv', Buffer.from('name,role\nMara,navigator\nTobin,cook\n')),
      learn(
        'card.json',
        Buffer.from(
          JSON.stringify({
            spec: 'chara_card_v2',
            data: {
              name: 'X',
              character_book: {
                entries: [
                  { keys: ['moon'], content: 'The moon of Veyra is green.', enabled: true },
                  { keys: ['sun'], content: 'The sun never sets in summer.', enabled: true },
                ],
              },
            },
          }),
        ),
      ),
    ]);
    expect(items.map((i) => [i.name, i.status])).toEqual(items.map((i) => [i.name, 'completed']));
    const pdfChunks = await em().find(VectorMemory, { knowledge: items[0]!.id });
    expect(pdfChunks.map((c) => (c.metadata as { page: number }).page).sort()).toEqual([1, 2]);
    expect(items[0]!.mimeType).toBe('application/pdf');
    const html = await em().find(VectorMemory, { knowledge: items[2]!.id });
    expect(html.map((c) => c.content).join(' ')).toContain('brass telescope');
    expect(html.map((c) => c.content).join(' ')).not.toMatch(/alert|menu/);
    const crew = await em().find(VectorMemory, { knowledge: items[4]!.id });
    expect(crew.map((c) => c.content).join(' ')).toContain('name: Mara; role: navigator');
    expect(items[5]!.processingInfo).toMatchObject({ chunks: 1 });
  });

  it('finds the right passage for a question whose answer is in one document among several', async () => {
    const hits = await searchKnowledge(em(), embedder, character, 'Who is the harbour master of Veyra?', 3);
    expect(hits[0]!.content).toContain('Corwin Hale');
    const bread = await searchKnowledge(em(), embedder, character, 'What does grandmother Ilsa bake?', 3);
    expect(bread[0]!.content).toContain('saffron bread');
  });

  it('refuses the same file twice for one character', async () => {
    const again = await learn(
      'notes-copy.md',
      Buffer.from('# Dragons\n\nThe silver dragon Aurith sleeps under the glacier.\n\n## Elves\n\nElves of Lindor sing at dawn.'),
    );
    expect(again.status).toBe('failed');
    expect(again.processingInfo).toMatchObject({ error: 'This file is already known as “notes.md”.' });
    expect(await em().count(VectorMemory, { knowledge: again.id })).toBe(0);
  });

  it('ends bad files in a clear failed state with no chunks', async () => {
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f5d5a10000000049454e44ae426082',
      'hex',
    );
    const cases: [string, Buffer | 'stall', RegExp][] = [
      ['broken.pdf', Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(2000)]), /PDF could not be read/],
      ['bomb.docx', zipBomb(), /zip bomb/],
      ['image.pdf', png, /image\/png \(whatever its name says\)/],
      ['binary.txt', Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x00, 0x80]), /not text|binary/],
      ['slow.txt', 'stall', /took longer than 2 s/],
      ['huge.txt', Buffer.alloc(3 * 1024 * 1024, 'a'), /larger than the 2 MB limit/],
    ];
    for (const [name, body, message] of cases) {
      const item = await learn(name, body, name === 'huge.txt' ? 100 : undefined);
      expect(item.status, name).toBe('failed');
      expect((item.processingInfo as { error: string }).error, name).toMatch(message);
      expect(await em().count(VectorMemory, { knowledge: item.id }), name).toBe(0);
    }
    await expect(
      addKnowledge(em(), queue, actor, character, {
        url: `${base}/x`,
        name: 'empty',
        sourceName: 'empty.txt',
        sourceType: 'file',
        size: 0,
      }),
    ).rejects.toThrow(/empty/);
  });

  it('never duplicates chunks when the job runs twice, and forgets them at once on removal', async () => {
    const item = await learn('twice.txt', Buffer.from('The bell of Saint Aurel rings thirteen times at midnight.'));
    const before = await em().count(VectorMemory, { knowledge: item.id });
    await em().nativeUpdate(CharacterKnowledge, { id: item.id }, { status: 'pending' });
    const handler = ingestHandler({
      orm: db.orm,
      embedder,
      extract: extractText,
      chunk: (extracted) => chunkDocument(extracted),
      fetch: guardedFetch({ allowPrivate: true }),
      limits: { maxBytes: 1024 * 1024, timeoutMs: 2000, maxUnpackedBytes: 1024 * 1024 },
      attempts: 1,
    });
    const context = jobContext(INGEST_QUEUE, 'x');
    await handler({ knowledgeId: item.id }, context);
    expect(await em().count(VectorMemory, { knowledge: item.id })).toBe(before);
    await removeKnowledge(em(), actor, character, item.id);
    const hits = await searchKnowledge(em(), embedder, character, 'How many times does the bell ring?', 5);
    expect(hits.some((hit) => hit.content.includes('Saint Aurel'))).toBe(false);
  });

  it('refuses a private address for a web page when the policy forbids it', async () => {
    const fetcher = guardedFetch({ allowPrivate: false });
    await expect(fetcher(`${base}/anything`)).rejects.toMatchObject({ kind: 'blocked_endpoint' });
  });

  it('limits how many files one server has in flight, and says so', async () => {
    const idle = new MemoryJobQueue({ logger: createLogger('silent') });
    const limits = { ...DEFAULT_KNOWLEDGE_LIMITS, maxInFlightPerGuild: 2 };
    const guild = { id: '150000000000000900', name: 'Library' };
    const member = await resolveActor(em(), { user: { id: '150000000000000901', username: 'reader' }, guild, isGuildAdmin: true });
    const shared = await createCharacter(em(), member, { name: 'Librarian', personalityPrompt: 'Shelves books.', visibility: 'guild' });
    const file = (n: number) => ({
      url: `${base}/queued-${n}.txt`,
      name: `queued-${n}`,
      sourceName: `queued-${n}.txt`,
      sourceType: 'file' as const,
      size: 10,
    });
    await addKnowledge(em(), idle, member, shared, file(1), limits);
    await addKnowledge(em(), idle, member, shared, file(2), limits);
    await expect(addKnowledge(em(), idle, member, shared, file(3), limits)).rejects.toThrow(
      '2 files are already being learned in this server; the most at once is 2.',
    );
    // Another person's files in DMs are counted apart from the server's.
    await expect(addKnowledge(em(), idle, actor, character, file(4), limits)).resolves.toMatchObject({ status: 'pending' });
    expect(await em().count(CharacterKnowledge, { character: shared.id })).toBe(2);
    await idle.close();
  });
});
