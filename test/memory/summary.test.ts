import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Conversation, Message, type ICharacter, type IConversation, type IMessage } from '../../src/db/entities/index.js';
import { ProviderRegistry, seedSystemInstances } from '../../src/llm/registry.js';
import { chatStream } from '../../src/llm/types.js';
import { createLogger } from '../../src/logger.js';
import { forget } from '../../src/memory/control.js';
import { deleteUserData } from '../../src/memory/delete-user-data.js';
import { queueSummarize, SUMMARIZE_QUEUE, summarizeHandler, summaryOf } from '../../src/memory/summary.js';
import { createJobQueue } from '../../src/queue/create-job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait-for.js';
import { jobContext } from '../support/job-context.js';

/**
 * The summarize job's id: replies that share a window queue one job, but a summary dropped by forget (or by a
 * deleted message or delete-my-data) is written again for the same span at once. Both queues ignore a job id they
 * have already run, so an id naming only the window skipped it (issue 16, item 6).
 */
const guild = { id: '933000000000000001', name: 'Harbour' };
const ione = { id: '123000000000000001', username: 'ione' };
let db: TestDatabase;
let fake: FakeServer;
let queue: JobQueue;
let actor: Actor;
let aria: ICharacter;
let channels = 0;
let resolveModel: Parameters<typeof summarizeHandler>[0]['resolveModel'];
const em = () => db.orm.em.fork();
const summaryRequests = () =>
  fake.requests.filter((request) => String(request.body.messages?.[0]?.content).startsWith('You keep the running summary')).length;

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOpenAI();
  const config = loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'fake-model' });
  await seedSystemInstances(em(), config);
  const providers = new ProviderRegistry({ config });
  resolveModel = (request) => providers.resolve(em(), request);
  queue = createJobQueue({
    redisUrl: process.env.REDIS_URL,
    logger: createLogger('silent'),
    prefix: `test-${randomBytes(4).toString('hex')}`,
  });
  queue.process(SUMMARIZE_QUEUE, summarizeHandler({ orm: db.orm, resolveModel }));
  actor = await resolveActor(em(), { user: ione, guild });
  aria = await createCharacter(em(), actor, { name: 'Aria', personalityPrompt: 'A bard.', visibility: 'guild' });
});
afterAll(async () => {
  await queue?.close();
  await fake?.close();
  await db?.close();
});
beforeEach(() => {
  fake.reset();
  // The summary retells every line it was given.
  fake.replyWith((request) => ({ text: String(request.body.messages?.[1]?.content ?? '').split('New messages:\n')[1] ?? 'Nothing.' }));
});

/** A conversation of 14 messages a minute apart, the even ones by `by`; the last two are the recent window. */
async function longConversation(by = actor): Promise<{ conversation: IConversation; messages: IMessage[] }> {
  const work = em();
  const conversation = await bindCharacter(work, actor, { id: String(923000000000000000n + BigInt(channels++)), kind: 'channel' }, aria);
  const start = Date.parse('2026-11-01T10:00:00Z');
  const messages = Array.from(
    { length: 14 },
    (_, i) =>
      work.create(Message, {
        conversation,
        role: i % 2 ? 'assistant' : 'user',
        content: `Line ${i} about the weather.`,
        ...(i % 2 ? { character: aria } : { author: by.user, authorName: by.user.username }),
        discordMessageId: String(943000000000000000n + BigInt(channels * 100 + i)),
        createdAt: new Date(start + i * 60_000),
      }) as IMessage,
  );
  await work.flush();
  return { conversation: conversation as IConversation, messages };
}

async function summarize(conversation: IConversation, windowStart: IMessage) {
  const fresh = (await em().findOneOrFail(Conversation, conversation.id)) as IConversation;
  await queueSummarize(
    queue,
    {
      conversationId: conversation.id,
      characterId: aria.id,
      userId: actor.user.id,
      guildId: actor.guild?.id,
      windowStartId: windowStart.id,
    },
    fresh,
  );
  return waitFor(async () => summaryOf((await em().findOneOrFail(Conversation, conversation.id)) as IConversation), 'the summary');
}

describe('the summarize job', () => {
  it('writes a dropped summary again for the same span', async () => {
    const { conversation, messages } = await longConversation();
    const first = await summarize(conversation, messages[12]!);
    expect(first.upToId).toBe(messages[11]!.id);
    expect(summaryRequests()).toBe(1);
    const result = await forget(em(), actor, conversation, { discordMessageId: messages[2]!.discordMessageId! });
    expect(result.summaryCleared).toBe(true);
    // Same window, nothing new said: the summary is written again from what is left, without the forgotten line.
    const again = await summarize(conversation, messages[12]!);
    expect(again.upToId).toBe(messages[11]!.id);
    expect(summaryRequests()).toBe(2);
    const folded = String(fake.requests.at(-1)!.body.messages[1].content);
    expect(folded).toContain('Line 0 about');
    expect(folded).not.toContain('Line 2 about');
  });

  it.each(['forget', 'delete-my-data'] as const)(
    'does not store a summary of messages deleted while it was being written (%s)',
    async (how) => {
      const marcus = await resolveActor(em(), { user: { id: '123000000000000002', username: 'marcus' }, guild });
      const { conversation, messages } = await longConversation(how === 'forget' ? actor : marcus);
      // The provider is held once it was asked: the job has read the messages.
      let asked!: () => void;
      const inCall = new Promise<void>((resolve) => (asked = resolve));
      let answer!: () => void;
      const held = new Promise<void>((resolve) => (answer = resolve));
      const handler = summarizeHandler({
        orm: db.orm,
        resolveModel: async (request) => {
          const resolved = await resolveModel(request);
          return {
            ...resolved,
            provider: {
              ...resolved.provider,
              stream: (chat) =>
                chatStream(async function* () {
                  asked();
                  await held;
                  const inner = resolved.provider.stream(chat);
                  for await (const delta of inner) yield delta;
                  return inner.result();
                }),
            },
          };
        },
      });
      const job = handler(
        { conversationId: conversation.id, characterId: aria.id, userId: actor.user.id, windowStartId: messages[12]!.id },
        jobContext(SUMMARIZE_QUEUE, 'held'),
      );
      await inCall;
      if (how === 'forget') await forget(em(), actor, conversation, { discordMessageId: messages[2]!.discordMessageId! });
      else await deleteUserData(em(), marcus.user.id);
      answer();
      await job;
      const summary = summaryOf((await em().findOneOrFail(Conversation, conversation.id)) as IConversation);
      // Made again from what is left (after forget, ten messages are still there to fold); never from the deleted lines.
      if (how === 'forget') expect(summary?.text).toContain('Line 0 about');
      expect(summary?.text ?? '').not.toContain('Line 2 about');
    },
  );
});
