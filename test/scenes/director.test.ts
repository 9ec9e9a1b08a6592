import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCharacter, updateCharacter } from '../../src/characters/characters.js';
import { Responder } from '../../src/chat/responder.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Character, Conversation, Message, type ICharacter } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { ProviderRegistry, seedSystemInstances } from '../../src/llm/registry.js';
import { createLogger } from '../../src/logger.js';
import { MemoryReplyDrafts, type ReplyDrafts } from '../../src/queue/drafts.js';
import { SceneDirector } from '../../src/scenes/director.js';
import { createScene, findScene, seatsOf, updateSceneSettings } from '../../src/scenes/scenes.js';
import { seededRandom } from '../../src/scenes/turns.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type RecordingSink, recordingSinks } from '../support/recording-sink.js';

let db: TestDatabase;
let fake: FakeServer;
let actor: Actor;
let director: SceneDirector;
let cast: ICharacter[];
const em = () => db.orm.em.fork();
const threadId = '950000000000000001';
const speaks = (request: { body?: any }) => ({
  text: `${/^Write (.+?)'s next reply/.exec(request.body?.messages?.[0]?.content ?? '')?.[1]} speaks.`,
});

function newDirector(drafts?: ReplyDrafts): SceneDirector {
  const config = loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'fake-model' });
  const providers = new ProviderRegistry({ config });
  const resolveModel = (request: Parameters<ProviderRegistry['resolve']>[1]) => providers.resolve(em(), request);
  const logger = createLogger('silent');
  const responder = new Responder({ orm: db.orm, embedder: new HashingEmbedder(64), resolveModel, logger });
  return new SceneDirector({ orm: db.orm, responder, resolveModel, logger, drafts, debounceMs: 50, random: seededRandom(1) });
}

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 64 });
  fake = await startFakeOpenAI();
  await seedSystemInstances(em(), loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'fake-model' }));
  actor = await resolveActor(em(), { user: { id: '960000000000000001', username: 'Ione' }, guild: { id: '970000000000000001' } });
  cast = [];
  for (const name of ['Aria', 'Borin', 'Cass'])
    cast.push(await createCharacter(em(), actor, { name, personalityPrompt: `${name}.`, visibility: 'guild' }));
  await createScene(em(), actor, { threadId, title: 'Inn', characters: cast, settings: { strategy: 'list', maxAutoTurns: 0 } });
});
// Each test starts from the same scene, whatever the one before left (even after it timed out): a new director once
// the old one's rounds are over, no round stored, the scene's settings as created, the fake's queued scripts forgotten.
beforeEach(async () => {
  await director?.close();
  fake.reset();
  fake.replyWith(speaks);
  await updateSceneSettings(em(), actor, (await findScene(em(), threadId))!, { strategy: 'list', maxAutoTurns: 0 });
  await storeRound(null);
  director = newDirector();
});
/** Writes the scene's stored round, as a round cut short by a restart or crash leaves it. */
async function storeRound(round: { queue: string[]; autoTurnsLeft: number; spoke: string[] } | null): Promise<void> {
  const scene = (await findScene(em(), threadId))!;
  const work = em();
  const loaded = await work.findOneOrFail(Conversation, scene.conversation.id);
  loaded.settings = { ...loaded.settings, scene: { ...scene.settings, round } };
  await work.flush();
}

afterAll(async () => {
  await director?.close();
  await fake?.close();
  await db?.close();
});

describe('the scene director', () => {
  it('stores the round’s speaker queue before anyone speaks, and clears it when the round is over', async () => {
    // What is stored when the first speaker starts (its typing indicator is awaited before its reply is asked for).
    let stored: string[] | undefined;
    const sinks = recordingSinks();
    const factory = Object.assign(
      (...args: Parameters<typeof sinks>) => {
        const sink = sinks(...args) as RecordingSink;
        if (sinks.sinks.length === 1) {
          sink.typing = async () => {
            stored = (await findScene(em(), threadId))?.settings.round?.queue;
          };
        }
        return sink;
      },
      { sinks: sinks.sinks },
    );
    await director.onMessage(
      {
        channelId: threadId,
        discordMessageId: '980000000000000001',
        author: { id: '960000000000000001', username: 'Ione' },
        content: 'Hello all.',
        addressed: false,
      },
      factory,
    );
    await director.idle();
    expect(sinks.sinks.map((sink) => sink.finished?.text)).toEqual(['Aria speaks.', 'Borin speaks.', 'Cass speaks.']);
    expect(stored).toEqual(cast.map((c) => c.id));
    expect((await findScene(em(), threadId))!.settings.round).toBeNull();
    // {{group}} is the scene's cast (ST's group members), also before Borin and Cass have said a word.
    const first = fake.requests[0]!.body as { messages: { content: string }[] };
    expect(first.messages.map((m) => m.content)).toContain('[Start a new group chat. Group members: Aria, Borin, Cass]');
  });

  it('keeps a settings change made while a round is running', async () => {
    const slow = { text: 'A slow line.', chunkDelayMs: 40 };
    fake.next(slow, slow, slow);
    const sinks = recordingSinks();
    await director.onMessage(
      {
        channelId: threadId,
        discordMessageId: '980000000000000002',
        author: { id: '960000000000000001', username: 'Ione' },
        content: 'Again.',
        addressed: false,
      },
      sinks,
    );
    await expect.poll(() => sinks.sinks.length, { timeout: 20_000 }).toBeGreaterThan(0);
    await updateSceneSettings(em(), actor, (await findScene(em(), threadId))!, { maxAutoTurns: 5 });
    await director.idle();
    expect(sinks.sinks).toHaveLength(3);
    const settings = (await findScene(em(), threadId))!.settings;
    expect(settings).toMatchObject({ strategy: 'list', maxAutoTurns: 5, round: null });
  });

  it('shows a failed provider call on that character’s reply, and the round goes on', async () => {
    fake.next({ status: 401, message: 'bad key' });
    const sinks = recordingSinks();
    await director.onMessage(
      {
        channelId: threadId,
        discordMessageId: '980000000000000003',
        author: { id: '960000000000000001', username: 'Ione' },
        content: 'One more.',
        addressed: false,
      },
      sinks,
    );
    await director.idle();
    expect(sinks.sinks.map((sink) => sink.speaker.name)).toEqual(['Aria', 'Borin', 'Cass']);
    expect(sinks.sinks[0]!.failed).toMatch(/rejected the API key/);
    expect(sinks.sinks.slice(1).map((sink) => sink.finished?.text)).toEqual(['Borin speaks.', 'Cass speaks.']);
  });

  it('after a restart, carries on with the stored queue instead of choosing again', async () => {
    // A round was cut short: Cass and then Aria were still to speak.
    await storeRound({ queue: [cast[2]!.id, cast[0]!.id], autoTurnsLeft: 0, spoke: [cast[1]!.id] });
    const conversation = (await findScene(em(), threadId))!.conversation;
    const before = await em().count(Message, { conversation: conversation.id, role: 'assistant' });

    const restarted = newDirector();
    const sinks = recordingSinks();
    expect(await restarted.resumeRounds(() => sinks)).toBe(1);
    await restarted.idle();
    expect(sinks.sinks.map((sink) => sink.speaker.name)).toEqual(['Cass', 'Aria']);
    expect(await em().count(Message, { conversation: conversation.id, role: 'assistant' })).toBe(before + 2);
    expect((await findScene(em(), threadId))!.settings.round).toBeNull();
    expect(await restarted.resumeRounds(() => sinks)).toBe(0);
    await restarted.close();
  });

  it('after a crash mid-reply, writes the resumed reply into the message the crash left half-written', async () => {
    await storeRound({ queue: [cast[2]!.id, cast[0]!.id], autoTurnsLeft: 0, spoke: [] });
    const scene = (await findScene(em(), threadId))!;
    // Cass was speaking when the process died: its message is on Discord, half-written, and noted as the draft.
    const drafts = new MemoryReplyDrafts();
    await drafts.save(scene.conversation.id, { speaker: { characterId: cast[2]!.id, name: 'Cass' }, messageIds: ['cass-half'] });

    const restarted = newDirector(drafts);
    const sinks = recordingSinks();
    expect(await restarted.resumeRounds(() => sinks)).toBe(1);
    await restarted.idle();
    expect(sinks.sinks.map((sink) => [sink.speaker.name, sink.messageIds])).toEqual([
      ['Cass', ['cass-half']],
      ['Aria', []],
    ]);
    expect(sinks.sinks[0]!.finished?.text).toBe('Cass speaks.');
    expect(await drafts.get(scene.conversation.id)).toBeUndefined();
    await restarted.close();
  });

  it('reads each character’s talkativeness, as /character edit sets it', async () => {
    const work = em();
    const borin = (await work.findOneOrFail(Character, cast[1]!.id)) as ICharacter;
    await updateCharacter(work, actor, borin, { config: { talkativeness: 0.9 } });
    const seats = seatsOf((await findScene(em(), threadId))!);
    expect(seats.map((seat) => seat.talkativeness)).toEqual([0.5, 0.9, 0.5]);
    await expect(updateCharacter(work, actor, borin, { config: { talkativeness: 3 } })).rejects.toThrow(/expected number to be <=1/);
  });
});
