import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { PersonNote, VectorMemory, type ICharacter } from '../../src/db/entities/index.js';
import { createDeps, type OwnedDeps } from '../../src/deps.js';
import { createLogger } from '../../src/logger.js';
import { NOTES_QUEUE } from '../../src/memory/notes-job.js';
import { waitForMemoryWork } from '../../src/terminal/memory-work.js';
import { terminalChannelId, terminalConfig, terminalUserId } from '../../src/terminal/terminal-config.js';
import { startWorkers } from '../../src/workers.js';
import type { FakeServer, RecordedRequest } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { recordingSinks } from '../support/recording-sink.js';
import { fakeProviderEnv } from '../support/fake-env.js';

/**
 * The terminal's wait for memory work (`npm run chat`, at the end of input and with --wait-memory) covers the notes
 * queue, a note-taking job still waiting out NOTES_DELAY_MS included: the terminal's own configuration and deps, its
 * in-process workers, the real responder and a fake OpenAI server on 127.0.0.1 (test/terminal-chat.test.ts runs the
 * whole process, slowly).
 */
const NOTES_DELAY_MS = 1500;
let db: TestDatabase;
let fake: FakeServer;
let deps: OwnedDeps;
let actor: Actor;
let aria: ICharacter;
let channelId: string;

const isNotesRequest = (request: RecordedRequest) => String(request.body?.messages?.[0]?.content ?? '').includes('notes about');

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 64 });
  // The deps open their own pool; the embedded server has one session, so the test's pool steps aside.
  await db.orm.close();
  fake = await startFakeOpenAI();
  const config = loadConfig({
    DATABASE_URL: db.url,
    ...fakeProviderEnv(fake),
    NOTES_DELAY_MS: String(NOTES_DELAY_MS),
  });
  deps = await createDeps(terminalConfig(config), createLogger('silent'));
  await startWorkers(deps);
  const em = deps.database.orm.em.fork();
  actor = await resolveActor(em, { user: { id: terminalUserId('ione'), username: 'ione' } });
  aria = await createCharacter(em, actor, { name: 'Aria', personalityPrompt: 'A bard.' });
  channelId = terminalChannelId(actor.user.id, aria.id);
  await bindCharacter(em, actor, { id: channelId, kind: 'dm', name: 'terminal' }, aria, { replyMode: 'all' });
}, 60_000);
afterAll(async () => {
  await deps?.close();
  await fake?.close();
  await db?.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.replyWith((request) => ({ text: isNotesRequest(request) ? '["Has a sister named Wilhelmina."]' : 'How lovely.' }));
});

describe('the terminal waiting for memory work', () => {
  it('waits for the notes job still delayed after the last reply, so the note is kept when it returns', async () => {
    const outcome = await deps.responder.onMessage(
      { channelId, author: { id: actor.user.discordId, username: 'ione' }, content: 'My sister is called Wilhelmina.', addressed: true },
      recordingSinks(),
    );
    expect(outcome).toBe('replied');
    // Right after the reply, note-taking is still waiting out its delay.
    expect((await deps.queue.counts(NOTES_QUEUE)).delayed).toBe(1);
    const started = performance.now();
    await waitForMemoryWork(deps.queue);
    expect(performance.now() - started).toBeGreaterThan(NOTES_DELAY_MS / 2);
    const em = deps.database.orm.em.fork();
    expect((await em.find(PersonNote, { user: actor.user.id })).map((note) => note.content)).toEqual(['Has a sister named Wilhelmina.']);
    expect(fake.requests.filter(isNotesRequest)).toHaveLength(1);
    expect(await em.count(VectorMemory, { memoryType: 'conversation' })).toBe(1);
    expect(await deps.queue.counts(NOTES_QUEUE)).toMatchObject({ waiting: 0, delayed: 0, active: 0, completed: 1 });
  });

  it('takes notes at once with --wait-memory: there is no burst to gather when every line waits', () => {
    const config = loadConfig({ NOTES_DELAY_MS: '30000' });
    expect(terminalConfig(config).notesDelayMs).toBe(30_000);
    expect(terminalConfig(config, { waitMemory: true }).notesDelayMs).toBe(0);
  });
});
