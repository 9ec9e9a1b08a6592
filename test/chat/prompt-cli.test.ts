import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { resolveActor } from '../../src/core/identity.js';
import { Character, Message, PersonNote } from '../../src/db/entities/index.js';
import { createLoreItems } from '../../src/knowledge/knowledge.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let db: TestDatabase;
const em = () => db.orm.em.fork();
const noQueue = { add: async () => {} } as unknown as JobQueue;

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 32 });
  const actor = await resolveActor(em(), { user: { id: '990000000000000001', username: 'Alex' } });
  const work = em();
  const mira = await createCharacter(work, actor, {
    name: 'Mira',
    personalityPrompt: '{{char}} navigates the Heron for {{user}}.',
    scenario: 'Night watch.',
  });
  const stored = await work.findOneOrFail(Character, mira.id);
  stored.card = {
    spec: 'chara_card_v2',
    data: { extensions: { depth_prompt: { prompt: '{{char}} is tired.', depth: 1, role: 'system' } } },
  };
  await work.flush();
  await createLoreItems(work, noQueue, actor, mira, [
    { keys: ['wreck'], content: 'The wreck hides gold.', name: 'Wreck' },
    { keys: ['lighthouse'], content: 'Brannoc keeps the lighthouse.', name: 'Lighthouse' },
  ]);
  const conversation = await bindCharacter(work, actor, { id: '990000000000000009', kind: 'dm', name: 'dm' }, mira);
  const user = actor.user;
  // A pinned message too long for the history window: the window leaves it out, the pinned part shows it (cut).
  const long = `The harbour master is called Odile. ${'The tide tables list every hour of the year. '.repeat(900)}`;
  for (const [role, content, pinned] of [
    ['user', long, true],
    ['user', 'Is there a wreck near?', false],
    ['assistant', 'Two miles north.', false],
  ] as const) {
    work.create(Message, {
      conversation,
      role,
      content,
      ...(role === 'user' ? { author: user, authorName: 'Alex' } : { character: stored }),
      ...(pinned ? { pinnedAt: new Date() } : {}),
      metadata: {},
    });
    await work.flush();
  }
  // A note about Alex, said in this DM.
  work.create(PersonNote, { user, character: stored, conversation, content: 'Has a brother named Piet.', shared: true });
  await work.flush();
});
afterAll(async () => {
  await db?.close();
});

describe('npm run prompt', () => {
  it('prints the exact prompt of the next reply, part by part with token counts, and changes nothing', async () => {
    const before = await em().count(Message, {});
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [
          path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
          path.join(ROOT, 'src/chat/prompt-cli.ts'),
          '--character',
          'mira',
          '--message',
          'And the lighthouse?',
        ],
        {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? '',
            DATABASE_URL: db.url,
            EMBEDDER: 'hashing',
            EMBEDDING_DIMENSION: '32',
            LOG_LEVEL: 'silent',
            HEALTH_PORT: '0',
          },
          timeout: 90_000,
        },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    expect(output).toContain("Prompt for Mira's next reply in conversation 990000000000000009");
    expect(output).toMatch(/Model .* · context 8192 tokens · prompt \d+ · kept for the reply 1024/);
    expect(output).toContain('{{user}} is Alex');
    // Scan depth 2: the new line and the reply before it; "wreck" is three messages back.
    expect(output).toContain('Lore activated: Lighthouse (lighthouse, before_char)');
    expect(output).toMatch(/── main prompt · system · \d+ tokens ──\nWrite Mira's next reply in a fictional chat between Mira and Alex\./);
    expect(output).toMatch(/── world info \(before\) · system · \d+ tokens ──\nBrannoc keeps the lighthouse\./);
    expect(output).toMatch(/── description · system · \d+ tokens ──\nMira navigates the Heron for Alex\./);
    expect(output).toMatch(
      /── depth injection · system · \d+ tokens ──\nMira is tired\.\n\n── history · user · \d+ tokens ──\nAnd the lighthouse\?/,
    );
    expect(output).not.toContain('The wreck hides gold.');
    // The notes about the person answered and the pinned messages, as the responder's own assembly gives them.
    expect(output).toMatch(/memories \d+ · notes 1 · pinned 1/);
    expect(output).toMatch(/── notes · system · \d+ tokens ──\nWhat Mira knows about Alex:\n- Has a brother named Piet\./);
    expect(output).toMatch(/── pinned messages · system · \d+ tokens ──\nPinned messages:\n- Alex: The harbour master is called Odile\./);
    expect(output.match(/The harbour master is called Odile/g)).toHaveLength(1);
    expect(output.indexOf('── chat start')).toBeLessThan(output.indexOf('Is there a wreck near?'));
    expect(await em().count(Message, {})).toBe(before);
  }, 120_000);
});
