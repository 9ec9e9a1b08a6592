import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { CharacterKnowledge, VectorMemory, type ICharacter } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { chunkDocument } from '../../src/knowledge/chunk.js';
import { extractText } from '../../src/knowledge/extract.js';
import { ingestHandler } from '../../src/knowledge/ingest-job.js';
import { addKnowledge, addLoreEntries, INGEST_QUEUE } from '../../src/knowledge/knowledge.js';
import { addLore, editLore, listLore, loadLore, removeLore, selectLore } from '../../src/knowledge/lore.js';
import { guardedFetch } from '../../src/llm/endpoint-guard.js';
import { createLogger } from '../../src/logger.js';
import { createJobQueue } from '../../src/queue/create-job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DIMENSION = 64;
let db: TestDatabase;
let queue: JobQueue;
let owner: Actor;
let stranger: Actor;
let character: ICharacter;
const em = () => db.orm.em.fork();

async function settled(id: string) {
  await expect.poll(async () => (await em().findOneOrFail(CharacterKnowledge, id)).status, { timeout: 20_000 }).toMatch(/completed|failed/);
  return em().findOneOrFail(CharacterKnowledge, id);
}
const passages = async (id: string) => (await em().find(VectorMemory, { knowledge: id })).map((row) => row.content).join(' ');

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
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
      chunk: (extracted) => chunkDocument(extracted),
      fetch: guardedFetch({ allowPrivate: false }),
      limits: { maxBytes: 1024 * 1024, timeoutMs: 2000, maxUnpackedBytes: 1024 * 1024 },
      attempts: 1,
    }),
  );
  owner = await resolveActor(em(), { user: { id: '170000000000000001', username: 'keeper' } });
  stranger = await resolveActor(em(), { user: { id: '170000000000000002', username: 'stranger' } });
  character = await createCharacter(em(), owner, { name: 'Loremaster', personalityPrompt: 'Knows the old tales.', visibility: 'public' });
});

afterAll(async () => {
  await queue?.close();
  await db?.close();
});

describe('lore entries in the database', () => {
  it('adds an entry whose keywords work before and after it is embedded', async () => {
    const item = await addLore(em(), queue, owner, character, {
      keys: ['harbour', '/ships?/'],
      content: '  The harbour of Veyra freezes every winter.  ',
      priority: 4,
    });
    expect(item.entry).toMatchObject({
      name: 'harbour, /ships?/',
      content: 'The harbour of Veyra freezes every winter.',
      priority: 4,
      constant: false,
    });
    const [loaded] = await loadLore(em(), character.id);
    expect(loaded).toEqual({
      id: item.id,
      name: 'harbour, /ships?/',
      entry: expect.objectContaining({ keys: ['harbour', '/ships?/'], content: item.entry.content }),
    });
    // A /regex/ key's own flags decide case, as in SillyTavern's parseRegexFromString: /ships?/ is case-sensitive.
    expect(selectLore([loaded!], ['Two ships came in.']).map((s) => s.trigger)).toEqual(['/ships?/']);
    expect(selectLore([loaded!], ['Two SHIPS came in.'])).toEqual([]);
    const stored = await settled(item.id);
    expect(stored.status).toBe('completed');
    expect(await passages(item.id)).toContain('freezes every winter');
    expect(await loadLore(em(), character.id)).toEqual([loaded]);
  });

  it('refuses bad entries in plain words', async () => {
    const add = (input: Partial<Parameters<typeof addLore>[4]>) =>
      addLore(em(), queue, owner, character, { keys: ['x'], content: 'Some text.', ...input });
    await expect(add({ content: '   ' })).rejects.toThrow('A lore entry needs content');
    await expect(add({ content: 'a'.repeat(8001) })).rejects.toThrow('8001 characters long; the limit is 8000');
    await expect(add({ keys: [' ', ''] })).rejects.toThrow('Give at least one keyword');
    await expect(add({ keys: ['fine', '/(oops/'] })).rejects.toThrow(
      /keyword “\/\(oops\/” is not a usable regular expression: Unterminated group/,
    );
    await expect(add({ keys: ['[a-'], useRegex: true })).rejects.toThrow(/keyword “\[a-” is not a usable regular expression/);
    await expect(add({ keys: ['/(a+)+/'] })).rejects.toThrow(/can take very long to match/);
    await expect(add({ keys: Array.from({ length: 51 }, (_, i) => `k${i}`) })).rejects.toThrow(
      'At most 50 keywords per entry (this one has 51)',
    );
    await expect(add({ content: 'The harbour of Veyra freezes every winter.' })).rejects.toThrow('already says exactly that');
    await expect(addLore(em(), queue, stranger, character, { keys: ['x'], content: 'Intruder.' })).rejects.toThrow(
      'Only the creator of Loremaster',
    );
    await expect(add({ keys: [], constant: true, content: 'Always true.' })).resolves.toMatchObject({
      entry: { constant: true, keys: [] },
    });
  });

  it('edits keys and flags without embedding again, and content by embedding again under a new job id', async () => {
    const item = await addLore(em(), queue, owner, character, {
      name: 'Bell',
      keys: ['bell'],
      content: 'The bell of Saint Aurel rings thirteen times.',
    });
    await settled(item.id);
    const flagsOnly = await editLore(em(), queue, owner, character, item.id, {
      keys: ['bell', 'tower'],
      caseSensitive: true,
      enabled: false,
    });
    expect(flagsOnly.entry).toMatchObject({
      keys: ['bell', 'tower'],
      caseSensitive: true,
      enabled: false,
      content: 'The bell of Saint Aurel rings thirteen times.',
    });
    expect((await em().findOneOrFail(CharacterKnowledge, item.id)).status).toBe('completed');

    const edited = await editLore(em(), queue, owner, character, item.id, { content: 'The bell of Saint Aurel fell silent in the war.' });
    expect(edited).toMatchObject({
      name: 'Bell',
      entry: { keys: ['bell', 'tower'], enabled: false, content: 'The bell of Saint Aurel fell silent in the war.' },
    });
    const row = await em().findOneOrFail(CharacterKnowledge, item.id);
    expect(row.fileSize).toBe(Buffer.byteLength('The bell of Saint Aurel fell silent in the war.'));
    expect((await settled(item.id)).status).toBe('completed');
    await expect.poll(() => passages(item.id), { timeout: 10_000 }).toContain('fell silent');
    expect(await passages(item.id)).not.toContain('thirteen');
    const reloaded = (await loadLore(em(), character.id)).find((lore) => lore.id === item.id)!;
    expect(reloaded.entry).toMatchObject({ content: 'The bell of Saint Aurel fell silent in the war.', enabled: false });
    expect(selectLore([reloaded], ['the bell'])).toEqual([]);

    await expect(editLore(em(), queue, owner, character, item.id, { keys: [] })).rejects.toThrow('Give at least one keyword');
    await expect(editLore(em(), queue, stranger, character, item.id, { keys: ['x'] })).rejects.toThrow('Only the creator');
  });

  it('lists entries with their status, and removes only lore entries, their passages with them', async () => {
    const rows = await listLore(em(), character);
    expect(rows.map((row) => row.name)).toEqual(['harbour, /ships?/', 'Always true.', 'Bell']);
    expect(rows.every((row) => ['pending', 'processing', 'completed'].includes(row.status))).toBe(true);
    const bell = rows.find((row) => row.name === 'Bell')!;
    await expect(removeLore(em(), stranger, character, bell.id)).rejects.toThrow('Only the creator');
    await expect(removeLore(em(), owner, character, bell.id)).resolves.toMatchObject({ name: 'Bell' });
    expect(await em().count(VectorMemory, { knowledge: bell.id })).toBe(0);
    expect((await listLore(em(), character)).map((row) => row.name)).not.toContain('Bell');
    const file = await addKnowledge(em(), queue, owner, character, {
      url: 'http://127.0.0.1:9/none.txt',
      name: 'a file',
      sourceName: 'none.txt',
      sourceType: 'file',
      size: 10,
    });
    await expect(removeLore(em(), owner, character, file.id)).rejects.toThrow('has no such lore entry');
    await expect(editLore(em(), queue, owner, character, file.id, { keys: ['x'] })).rejects.toThrow('has no such lore entry');
    expect((await loadLore(em(), character.id)).map((lore) => lore.name)).not.toContain('a file');
  });

  it('loads the entries of an imported card lorebook with their flags', async () => {
    const card = await createCharacter(em(), owner, { name: 'Carded', personalityPrompt: 'From a card.' });
    await addLoreEntries(em(), queue, owner, card, [
      { keys: ['moon'], content: 'The moon of Veyra is green.', caseSensitive: true, priority: 2 },
      { keys: ['/suns?/'], content: 'Two suns rise in summer.', useRegex: false, selective: true, secondaryKeys: ['summer'] },
      { keys: ['gone'], content: 'Disabled entries are kept, switched off, as SillyTavern keeps them.', enabled: false },
    ]);
    const items = await loadLore(em(), card.id);
    expect(items.map((item) => [item.entry.keys, item.entry.enabled])).toEqual([
      [['moon'], undefined],
      [['/suns?/'], undefined],
      [['gone'], false],
    ]);
    const stored = await em().find(CharacterKnowledge, { character: card.id });
    expect(new Set(stored.map((row) => row.createdAt.getTime())).size).toBe(3);
    expect(selectLore(items, ['gone moon']).map((s) => s.item.name)).toEqual(['moon']);
    expect(selectLore(items, ['The Moon and the suns of summer']).map((s) => s.item.entry.content)).toEqual(['Two suns rise in summer.']);
    expect(selectLore(items, ['the Moon and the suns in winter'])).toEqual([]);
    // Equal insertion orders: ST sorts highest first and unshifts, so the later entry comes first in the prompt.
    expect(selectLore(items, ['moon, suns, summer']).map((s) => s.item.name)).toEqual(['/suns?/', 'moon']);
  });

  it('embeds every entry of an imported lorebook, also two that say the same thing under different keys', async () => {
    // ST's world info allows this (each entry is its own trigger); the file check "already known" is for files only.
    const card = await createCharacter(em(), owner, { name: 'Twinned', personalityPrompt: 'Two keys, one fact.' });
    await addLoreEntries(em(), queue, owner, card, [
      { keys: ['harbour'], content: 'The harbour freezes every winter.' },
      { keys: ['ice', 'winter'], content: 'The harbour freezes every winter.' },
    ]);
    const rows = await em().find(CharacterKnowledge, { character: card.id }, { orderBy: { createdAt: 'asc' } });
    const done = await Promise.all(rows.map((row) => settled(row.id)));
    expect(done.map((row) => [row.status, (row.processingInfo as { error?: string } | null)?.error])).toEqual([
      ['completed', undefined],
      ['completed', undefined],
    ]);
    for (const row of done) expect(await passages(row.id)).toContain('The harbour freezes every winter.');
  });

  it('edits an imported entry longer than a hand-written one may be, or empty, keeping what was not edited', async () => {
    const card = await createCharacter(em(), owner, { name: 'Longbook', personalityPrompt: 'Keeps long records.' });
    const chronicle = `${'The chronicle of the northern wars, year by year. '.repeat(200)}`.trim();
    expect(chronicle.length).toBeGreaterThan(8000);
    await addLoreEntries(em(), queue, owner, card, [
      { keys: ['chronicle'], content: chronicle },
      { keys: ['blank'], content: '', enabled: false },
    ]);
    const [long, blank] = await listLore(em(), card);
    const renamed = await editLore(em(), queue, owner, card, long!.id, { name: 'The chronicle', keys: ['chronicle', 'wars'] });
    expect(renamed.entry).toMatchObject({ keys: ['chronicle', 'wars'], content: chronicle });
    const switched = await editLore(em(), queue, owner, card, blank!.id, { keys: ['blank', 'empty'] });
    expect(switched.entry).toMatchObject({ keys: ['blank', 'empty'], content: '' });
    // A new content is held to the limits of a hand-written one.
    await expect(editLore(em(), queue, owner, card, long!.id, { content: `${chronicle} More.` })).rejects.toThrow(/the limit is 8000/);
    expect((await listLore(em(), card)).map((row) => row.entry.content)).toEqual([chronicle, '']);
  });
});
