import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../src/characters/characters.js';
import { resolveActor } from '../src/core/identity.js';
import type { FakeServer } from './fakes-llm/fake-server.js';
import { startFakeOpenAI } from './fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let db: TestDatabase;
let fake: FakeServer;

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 32 });
  fake = await startFakeOpenAI();
  const em = db.orm.em.fork();
  const actor = await resolveActor(em, { user: { id: 'terminal-tester', username: 'tester' } });
  await createCharacter(em, actor, { name: 'Aria', personalityPrompt: 'A bard.', greeting: 'Hi {{user}}!' });
  // The database is shared with a child process: on the embedded server it has one session, so let go of it.
  await db.orm.close();
});
afterAll(async () => {
  await fake.close();
  await db?.close();
});

describe('npm run chat', () => {
  it('greets, answers each line from stdin through the same core, and stores the conversation', async () => {
    fake.next({ text: 'First answer.' }, { text: 'Second answer.' });
    const output = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'src/terminal/chat.ts'), '--character', 'Aria', '--user', 'tester'],
        {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? '',
            DATABASE_URL: db.url,
            EMBEDDER: 'hashing',
            EMBEDDING_DIMENSION: '32',
            OPENAI_API_KEY: 'sk-test',
            OPENAI_BASE_URL: fake.url,
            LOG_LEVEL: 'silent',
            HEALTH_PORT: '0',
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      );
      child.stdin!.end('Hello there\nHow are you?\n');
    });
    expect(output).toContain('Aria: Hi tester!');
    expect(output).toContain('Aria: First answer.');
    expect(output).toContain('Aria: Second answer.');
    const prompts = fake.requests.filter((r) => r.path === '/v1/chat/completions');
    expect(prompts).toHaveLength(2);
    expect(prompts[1]!.body.messages.map((m: { content: string }) => m.content)).toEqual(
      expect.arrayContaining(['tester: Hello there', 'First answer.', 'tester: How are you?']),
    );
  });
});
