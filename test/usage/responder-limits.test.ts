import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { Responder, type ReplyEvent } from '../../src/chat/responder.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor } from '../../src/core/identity.js';
import { Message, type IConversation } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { ProviderRegistry, seedSystemInstances } from '../../src/llm/registry.js';
import { createLogger } from '../../src/logger.js';
import { UsageBudget } from '../../src/usage/budget.js';
import { estimateCost } from '../../src/usage/pricing.js';
import { MemoryRateLimiter } from '../../src/usage/rate-limiter.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { recordingSinks } from '../support/recording-sink.js';

let db: TestDatabase;
let fake: FakeServer;
let responder: Responder;
let conversation: IConversation;
const events: ReplyEvent[] = [];
const clock = { now: Date.UTC(2030, 0, 1, 20, 48, 18) };
const em = () => db.orm.em.fork();
const channelId = '921000000000000001';
const guild = { id: '931000000000000001', name: 'Inn' };
const ione = { id: '121000000000000001', username: 'Ione' };
const marcus = { id: '121000000000000002', username: 'Marcus' };
const nadia = { id: '121000000000000003', username: 'Nadia' };
let nextMessageId = 1n;
const chats = () => fake.requests.filter((request) => request.path === '/v1/chat/completions');
const say = async (author: { id: string; username: string }, content: string) => {
  const sinks = recordingSinks();
  const discordMessageId = String(941000000000000000n + nextMessageId++);
  const outcome = await responder.onMessage({ channelId, discordMessageId, author, guild, content, addressed: true }, sinks);
  return { outcome, sink: sinks.sinks[0]!, discordMessageId };
};

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 64 });
  fake = await startFakeOpenAI();
  const config = loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'gpt-4o-mini' });
  await seedSystemInstances(em(), config);
  const providers = new ProviderRegistry({ config });
  const logger = createLogger('silent');
  const budget = new UsageBudget({
    limiter: new MemoryRateLimiter({ now: () => clock.now }),
    limits: { userMessagesPerMinute: 2, userTokensPerDay: 1000, serverMessagesPerMinute: 0, serverTokensPerDay: 0 },
    logger,
    now: () => clock.now,
  });
  responder = new Responder({
    orm: db.orm,
    embedder: new HashingEmbedder(64),
    resolveModel: (request) => providers.resolve(em(), request),
    logger,
    budget,
    observe: (event) => events.push(event),
  });
  const work = em();
  const actor = await resolveActor(work, { user: ione, guild });
  const character = await createCharacter(work, actor, { name: 'Aria', personalityPrompt: 'A cheerful bard.', visibility: 'guild' });
  conversation = await bindCharacter(work, actor, { id: channelId, kind: 'thread' }, character);
});
afterAll(async () => {
  await fake.close();
  await db?.close();
});
beforeEach(() => {
  fake.reset();
  clock.now += 60_000;
});

describe('Responder within usage limits', () => {
  it('refuses politely past the messages a minute: no provider call, the person’s message kept', async () => {
    fake.reply('Hello!');
    expect((await say(ione, 'One.')).outcome).toBe('replied');
    expect((await say(ione, 'Two.')).outcome).toBe('replied');
    const replies = await em().count(Message, { conversation: conversation.id, role: 'assistant' });
    const before = chats().length;
    const third = await say(ione, 'Three, too fast.');
    expect(third.sink.events).toEqual(['fail']);
    expect(third.sink.failed).toBe("You've reached 2 messages a minute; try again in 42 s.");
    expect(chats().length).toBe(before);
    expect(await em().findOne(Message, { discordMessageId: third.discordMessageId })).toMatchObject({
      role: 'user',
      content: 'Three, too fast.',
    });
    expect(await em().count(Message, { conversation: conversation.id, role: 'assistant' })).toBe(replies);
    expect(events.at(-1)).toMatchObject({ ok: false, failure: 'limit' });
    // Someone else is not held back, and the next minute is a new window.
    expect((await say(marcus, 'My turn.')).outcome).toBe('replied');
    clock.now += 42_000;
    const later = await say(ione, 'Four, a minute later.');
    expect(later.sink.events).toContain('finish');
    // The next reply sees the refused message: nothing was lost.
    const prompt = chats()
      .at(-1)!
      .body.messages.map((m: { content: string }) => m.content);
    expect(prompt).toContain('Ione: Three, too fast.');
  });

  it('stores tokens, model and estimated cost, and counts the day’s tokens from the provider’s usage', async () => {
    fake.next({ text: 'A long answer.', usage: { input: 600, output: 50 } });
    const first = await say(nadia, 'Tell me everything.');
    const stored = await em().findOneOrFail(Message, first.sink.finished!.info.messageId);
    const user = await resolveActor(em(), { user: nadia, guild });
    expect(stored).toMatchObject({ tokensUsed: 650, model: 'gpt-4o-mini' });
    const cost = estimateCost('gpt-4o-mini', { inputTokens: 600, outputTokens: 50 })!;
    expect(cost).toBeGreaterThan(0);
    expect(stored.metadata).toMatchObject({ costUsd: cost, spent: { by: user.user.id, tokens: 650, costUsd: cost, generations: 1 } });
    clock.now += 60_000;
    fake.next({ text: 'And more.', usage: { input: 600, output: 50 } });
    expect((await say(nadia, 'Go on.')).sink.events).toContain('finish');
    clock.now += 60_000;
    const before = chats().length;
    const refused = await say(nadia, 'And then?');
    expect(refused.sink.failed).toBe("You've used your 1,000 tokens for today; they reset at 00:00 UTC (in 3 h 7 min).");
    expect(chats().length).toBe(before);
  });

  it('counts regenerate and continue as attempts, and refuses them to the person who pressed, leaving the reply as it is', async () => {
    fake.reply('Version one.');
    const { sink } = await say(marcus, 'Sing.');
    const messageId = sink.finished!.info.messageId;
    const actor = await resolveActor(em(), { user: marcus, guild });
    fake.next({ text: 'Version two.', usage: { input: 10, output: 2 } });
    await responder.regenerate(messageId, actor, recordingSinks());
    const before = chats().length;
    const pressed = recordingSinks();
    await expect(responder.continueReply(messageId, actor, pressed)).rejects.toThrow("You've reached 2 messages a minute; try again in");
    expect(pressed.sinks).toHaveLength(0);
    expect(chats().length).toBe(before);
    const stored = await em().findOneOrFail(Message, messageId);
    expect(stored.content).toBe('Version two.');
    expect(stored.metadata).toMatchObject({ spent: { by: actor.user.id, generations: 2 } });
  });
});
