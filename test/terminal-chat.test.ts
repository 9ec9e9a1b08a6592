import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MikroORM } from '@mikro-orm/postgresql';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrmOptions } from '../mikro-orm.config.js';
import { createCharacter } from '../src/characters/characters.js';
import { resolveActor } from '../src/core/identity.js';
import { freePort, hasRedisServer, RedisServer } from './faults/services.js';
import type { FakeServer, RecordedRequest } from './fakes-llm/fake-server.js';
import { startFakeOpenAI } from './fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let db: TestDatabase;
let fake: FakeServer;
let redis: RedisServer | undefined;
let redisUrl: string;
/** What the character says next, in order (note-taking requests get `notesAnswer` instead, so they take none). */
const answers: string[] = [];
let notesAnswer = '[]';
const isNotesRequest = (request: RecordedRequest) => String(request.body?.messages?.[0]?.content ?? '').includes('notes about');
const say = (...texts: string[]) => answers.push(...texts);

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 32 });
  fake = await startFakeOpenAI();
  fake.replyWith((request) => ({ text: isNotesRequest(request) ? notesAnswer : (answers.shift() ?? 'Okay.') }));
  // A real Redis when the machine has one (nothing listening otherwise): the terminal must not depend on it.
  redis = hasRedisServer ? await RedisServer.start() : undefined;
  redisUrl = redis?.url ?? `redis://127.0.0.1:${await freePort()}`;
  const em = db.orm.em.fork();
  const actor = await resolveActor(em, { user: { id: 'terminal-owner', username: 'owner' } });
  await createCharacter(em, actor, { name: 'Aria', personalityPrompt: 'A bard.', greeting: 'Hi {{user}}!', visibility: 'public' });
  // The database is shared with a child process: on the embedded server it has one session, so let go of it.
  await db.orm.close();
}, 60_000);
afterAll(async () => {
  await fake.close();
  await redis?.stop();
  await db?.close();
});

/** Runs `npm run chat` (its entry point under tsx) with `input` on stdin, as a script would. */
function chat(args: string[], input: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        path.join(ROOT, 'src/terminal/chat.ts'),
        ...(args.some((arg) => ['--card', '--list', '--character'].includes(arg)) ? [] : ['--character', 'Aria']),
        ...args,
      ],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: db.url,
          EMBEDDER: 'hashing',
          EMBEDDING_DIMENSION: '32',
          OPENAI_API_KEY: 'sk-test',
          OPENAI_BASE_URL: fake.url,
          LOG_LEVEL: 'info',
          HEALTH_PORT: '0',
          // At the end of input the terminal waits for note-taking, which runs this long after the last reply.
          NOTES_DELAY_MS: '300',
          ...env,
        },
        timeout: 90_000,
      },
      (error, stdout, stderr) =>
        error && !env.EXPECT_FAILURE ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

/** Reads the database the child wrote (on the embedded server only one session may be open at a time). */
async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const orm = await MikroORM.init(createOrmOptions({ clientUrl: db.url, embeddingDimension: 32, poolSize: 1 }));
  try {
    return await orm.em.execute<T[]>(sql, params);
  } finally {
    await orm.close();
  }
}

const memoriesOf = async (userName: string) =>
  Number(
    (
      await query<{ n: string }>(
        `select count(*) as n from vector_memories v join conversations c on c.id = v.conversation_id
          join users u on u.id = c.user_id where u.discord_id = ?`,
        [`terminal-${userName}`],
      )
    )[0]!.n,
  );

/** What the characters said: stdout without the footer the terminal prints under each reply (model and tokens). */
const said = (stdout: string) => stdout.replace(/^ {2}\(\S+, \d+\+\d+ tokens\)\n/gm, '');

const promptTexts = (requests: RecordedRequest[]) =>
  requests
    .filter((r) => r.path === '/v1/chat/completions' && !isNotesRequest(r))
    .map((r) => r.body.messages.map((m: { content: string }) => m.content).join('\n'));

describe('npm run chat', () => {
  it('answers every line on the terminal, keeps logs out of stdout, ignores Redis and the Discord limits, and memorizes', async () => {
    say('First answer.', 'Second answer.', 'Third answer.');
    notesAnswer = '["Has a sister named Wilhelmina."]';
    const { stdout, stderr } = await chat(
      ['--user', 'alice', '--wait-memory'],
      'My sister is Wilhelmina.\nTell me about the harbour?\nAnd the sea?\n',
      {
        REDIS_URL: redisUrl,
        REPLIES_IN_QUEUE: 'true',
        USAGE_USER_MESSAGES_PER_MINUTE: '1',
      },
    );
    expect(said(stdout)).toBe('Aria: Hi alice!\nAria: First answer.\nAria: Second answer.\nAria: Third answer.\n');
    // The logs went to stderr: the workers ran here, on the in-process queue.
    expect(stderr).toMatch(/"msg":"workers started"/);
    expect(stderr).toMatch(/"queue":"in-process"/);
    const prompts = promptTexts(fake.requests);
    expect(prompts).toHaveLength(3);
    // One person: their lines go as written (ST's default names behaviour outside group chats); a recalled
    // exchange keeps its names.
    expect(prompts[2]).toMatch(/(^|\n)(alice: )?Tell me about the harbour\?/);
    expect(prompts[2]).toContain('Second answer.');
    // --wait-memory waited for note-taking too (taken at once), so the next line was answered with the note.
    expect(prompts[1]).toContain('What Aria knows about alice:\n- Has a sister named Wilhelmina.');
    notesAnswer = '[]';
    // Every exchange was memorized before the process left (the greeting is not a memory; each line holds a content
    // word, so none is small talk that src/memory/worth.ts leaves out).
    expect(await memoriesOf('alice')).toBe(3);
    if (redis) {
      const client = new Redis(redis.url);
      expect(await client.keys('*')).toEqual([]);
      client.disconnect();
    }
  }, 120_000);

  it('keeps one conversation per person: Bob starts his own, Alice continues hers and her memory work finishes at exit', async () => {
    fake.requests.length = 0;
    say('Hello Bob.');
    const bob = await chat(['--user', 'bob'], 'Do you know my dog Rex?\n');
    expect(said(bob.stdout)).toBe('Aria: Hi bob!\nAria: Hello Bob.\n');
    const [bobPrompt] = promptTexts(fake.requests);
    expect(bobPrompt).toMatch(/(^|\n)(bob: )?Do you know my dog Rex\?/);
    expect(bobPrompt).not.toContain('Wilhelmina');
    expect(bobPrompt).not.toContain('First answer.');

    fake.requests.length = 0;
    say('Welcome back.');
    const alice = await chat(['--user', 'alice'], 'I am back.\n');
    expect(said(alice.stdout)).toBe('Aria: Welcome back.\n');
    const [alicePrompt] = promptTexts(fake.requests);
    expect(alicePrompt).toMatch(/(^|\n)(alice: )?My sister is Wilhelmina\./);
    expect(alicePrompt).toMatch(/(^|\n)(alice: )?I am back\./);
    expect(await memoriesOf('alice')).toBe(4);
    expect(await memoriesOf('bob')).toBe(1);
    const conversations = await query<{ n: string }>(`select count(*) as n from conversations`);
    expect(Number(conversations[0]!.n)).toBe(2);
  }, 120_000);

  it('writes its logs to a file with --log', async () => {
    say('Logged.');
    const file = path.join(await import('node:os').then((os) => os.tmpdir()), `dreamchat-terminal-${process.pid}.log`);
    const { stdout, stderr } = await chat(['--user', 'carol', '--log', file], 'Hi\n');
    expect(said(stdout)).toBe('Aria: Hi carol!\nAria: Logged.\n');
    expect(stderr).toBe('');
    const { readFile, rm } = await import('node:fs/promises');
    expect(await readFile(file, 'utf8')).toMatch(/"msg":"workers started"/);
    await rm(file, { force: true });
  }, 120_000);

  it('imports a card with --card (reusing an identical earlier import), lists with --list, and gives no Discord advice', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { exportCardPng } = await import('../src/cards/export-card.js');
    const card = exportCardPng({
      spec: 'chara_card_v2',
      spec_version: '2.0',
      data: { name: 'Wren', description: 'A lighthouse keeper.', first_mes: 'Evening, {{user}}.', creator: 'someone' },
    });
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'dreamchat-card-')), 'wren.png');
    await writeFile(file, card);
    say('The lamp is lit.');
    const first = await chat(['--card', file, '--user', 'carol'], 'Is the lamp lit?\n');
    expect(said(first.stdout)).toBe('Wren: Evening, carol.\nWren: The lamp is lit.\n');
    expect(first.stderr).toContain('Imported Wren.');
    say('Still lit.');
    const again = await chat(['--card', file, '--user', 'carol'], 'And now?\n');
    expect(said(again.stdout)).toBe('Wren: Still lit.\n');
    expect(again.stderr).toContain('Using Wren, imported earlier from this file.');
    expect(Number((await query<{ n: string }>(`select count(*) as n from characters where name = 'Wren'`))[0]!.n)).toBe(1);

    const list = await chat(['--list', '--user', 'carol'], '');
    expect(list.stdout).toBe('Aria — A bard.\nWren — A lighthouse keeper.\n');
    const missing = await chat(['--character', 'Nobody', '--user', 'carol'], '', { EXPECT_FAILURE: '1' });
    expect(missing.stderr).toContain('No character called “Nobody” that you can use here. See npm run chat -- --list');
    expect(missing.stderr).not.toContain('/character');
  }, 400_000);
});
