import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { Responder, type ReplyEvent } from '../../src/chat/responder.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Guild, Message, StoryBranch, type ICharacter, type IConversation } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { ProviderRegistry, seedSystemInstances } from '../../src/llm/registry.js';
import { createLogger } from '../../src/logger.js';
import { insertMemories } from '../../src/memory/vector-store.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { recordingSinks } from '../support/recording-sink.js';

const DIMENSION = 64;
let db: TestDatabase;
let fake: FakeServer;
let responder: Responder;
let actor: Actor;
let character: ICharacter;
let conversation: IConversation;
const embedder = new HashingEmbedder(DIMENSION);
const events: ReplyEvent[] = [];
const em = () => db.orm.em.fork();
const channelId = '920000000000000001';
const guild = { id: '930000000000000001', name: 'Inn' };
let nextMessageId = 1n;
const say = (author: { id: string; username: string }, content: string, sinks = recordingSinks()) =>
  responder
    .onMessage(
      { channelId, discordMessageId: String(940000000000000000n + nextMessageId++), author, guild, content, addressed: true },
      sinks,
    )
    .then((outcome) => ({ outcome, sinks }));
const ione = { id: '120000000000000001', username: 'Ione' };
const marcus = { id: '120000000000000002', username: 'Marcus' };

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  fake = await startFakeOpenAI();
  const config = loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'fake-model' });
  await seedSystemInstances(em(), config);
  const providers = new ProviderRegistry({ config });
  responder = new Responder({
    orm: db.orm,
    embedder,
    resolveModel: (request) => providers.resolve(em(), request),
    logger: createLogger('silent'),
    observe: (event) => events.push(event),
    retrieval: {
      knowledge: { k: 4, minSimilarity: 0.05 },
      conversation: { k: 4, minSimilarity: 0.05 },
      other: { k: 4, minSimilarity: 0.05 },
    },
  });
  actor = await resolveActor(em(), { user: ione, guild });
  const work = em();
  character = await createCharacter(work, actor, {
    name: 'Aria',
    personalityPrompt: 'A cheerful bard.',
    greeting: 'Hello {{user}}, I am {{char}}!',
    visibility: 'guild',
  });
  conversation = await bindCharacter(work, actor, { id: channelId, kind: 'thread' }, character);
});
afterAll(async () => {
  await fake.close();
  await db?.close();
});
beforeEach(() => {
  fake.reset();
});

describe('Responder', () => {
  it('greets with the card’s greeting, macros filled', async () => {
    const sinks = recordingSinks();
    await responder.greet(conversation.id, 'Ione', sinks);
    expect(sinks.sinks[0]!.finished?.text).toBe('Hello Ione, I am Aria!');
    const stored = await em().findOneOrFail(Message, { conversation: conversation.id, role: 'assistant' });
    expect(stored.discordMessageId).toMatch(/^discord-/);
  });

  it('stores the message, streams the reply into the sink and stores it with tokens and model', async () => {
    fake.next({ chunks: ['Well ', 'met, ', 'Ione!'], usage: { input: 120, output: 3 } });
    const { outcome, sinks } = await say(ione, 'Hello Aria, I am back.');
    expect(outcome).toBe('replied');
    const sink = sinks.sinks[0]!;
    expect(sink.events).toEqual(['typing', 'update', 'finish']);
    expect(sink.updates).toEqual(['Well ', 'Well met, ', 'Well met, Ione!']);
    expect(sink.speaker.name).toBe('Aria');
    const reply = await em().findOneOrFail(Message, { id: sink.finished!.info.messageId });
    expect(reply).toMatchObject({ role: 'assistant', content: 'Well met, Ione!', tokensUsed: 123, model: 'fake-model' });
    const request = fake.requests.at(-1)!.body;
    expect(request.model).toBe('fake-model');
    expect(request.messages[0].role).toBe('system');
    // One person so far: their line goes as written, without a name (ST's default names behaviour outside groups).
    expect(request.messages.at(-1)).toMatchObject({ role: 'user', content: 'Hello Aria, I am back.' });
  });

  it('tells two people apart in the prompt', async () => {
    await say(marcus, 'I brought peanuts!');
    const request = fake.requests.at(-1)!.body;
    const lines = request.messages.map((m: { content: string }) => m.content);
    // Two people now: every person's line starts with their name.
    expect(lines).toContain('Ione: Hello Aria, I am back.');
    expect(lines).toContain('Marcus: I brought peanuts!');
    expect(lines[0]).toBe("Write Aria's next reply in a fictional chat between Aria, Ione and Marcus.");
  });

  it('answers messages that arrive while it is replying once, together, not twice', async () => {
    fake.reply('A slow and thoughtful answer.', { chunkDelayMs: 60 });
    const earlier = fake.requests.length;
    const first = say(ione, 'Tell me a long story.');
    await expect.poll(() => fake.requests.length).toBeGreaterThan(earlier);
    const during = await Promise.all([say(marcus, 'Wait, also this.'), say(ione, 'And this!')]);
    expect(during.map((d) => d.outcome)).toEqual(['queued', 'queued']);
    expect((await first).outcome).toBe('replied');
    const chats = fake.requests.filter((r) => r.path === '/v1/chat/completions');
    const lastPrompt = chats.at(-1)!.body.messages.map((m: { content: string }) => m.content);
    expect(lastPrompt).toContain('Marcus: Wait, also this.');
    expect(lastPrompt).toContain('Ione: And this!');
    const before = chats.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fake.requests.filter((r) => r.path === '/v1/chat/completions').length).toBe(before);
    fake.reply('Hello there!');
  });

  it('answers a Discord message handled twice (delivered again, or retried after a lost connection) once', async () => {
    fake.reply('Once is enough.');
    const message = {
      channelId,
      discordMessageId: String(940000000000000000n + nextMessageId++),
      author: ione,
      guild,
      content: 'Aria, just once?',
      addressed: true,
    };
    const chats = () => fake.requests.filter((r) => r.path === '/v1/chat/completions').length;
    const before = chats();
    expect(await responder.onMessage(message, recordingSinks())).toBe('replied');
    expect(await responder.onMessage(message, recordingSinks())).toBe('stored');
    expect(chats()).toBe(before + 1);
    const stored = await em().count(Message, { conversation: conversation.id, discordMessageId: message.discordMessageId });
    expect(stored).toBe(1);
    fake.reply('Hello there!');
  });

  it('recalls the character’s knowledge that matches the conversation', async () => {
    const [vector] = await embedder.embed(['The lighthouse keeper of Veyra is called Orin and he hates seagulls.']);
    await insertMemories(em(), [
      {
        content: 'The lighthouse keeper of Veyra is called Orin and he hates seagulls.',
        embedding: vector!,
        memoryType: 'character',
        characterId: character.id,
      },
    ]);
    await say(ione, 'Who is the lighthouse keeper of Veyra?');
    const messages = fake.requests.at(-1)!.body.messages as { role: string; content: string }[];
    const memories = messages.find((m) => m.content.startsWith('Related information:'));
    expect(memories?.role).toBe('system');
    expect(memories?.content).toContain('Orin and he hates seagulls');
    // Right after the main prompt, where ST's Vector Storage puts what it recalls.
    expect(messages.indexOf(memories!)).toBe(1);
  });

  it('shows a plain error when the provider fails, and stores no reply', async () => {
    const count = await em().count(Message, { conversation: conversation.id, role: 'assistant' });
    fake.next({ status: 401, message: 'bad key' }, { status: 401, message: 'bad key' });
    const { sinks } = await say(ione, 'Are you there?');
    expect(sinks.sinks[0]!.events).toEqual(['typing', 'fail']);
    expect(sinks.sinks[0]!.failed).toMatch(/rejected the API key/);
    expect(await em().count(Message, { conversation: conversation.id, role: 'assistant' })).toBe(count);
    expect(events.at(-1)).toMatchObject({ ok: false, failure: 'auth' });
    expect(events.some((event) => event.ok && event.model === 'fake-model' && event.ms > 0)).toBe(true);
  });

  it('regenerates the latest reply as a new alternative and swipes between them', async () => {
    fake.next({ text: 'First version.' });
    const { sinks } = await say(ione, 'Sing something.');
    const messageId = sinks.sinks[0]!.finished!.info.messageId;
    fake.next({ text: 'Second version.' });
    const regen = recordingSinks();
    await responder.regenerate(messageId, actor, regen);
    expect(regen.sinks[0]!.messageIds).toEqual([sinks.sinks[0]!.finished && `discord-${messageId.slice(0, 8)}`]);
    expect(regen.sinks[0]!.finished).toMatchObject({ text: 'Second version.', info: { alternative: { index: 2, count: 2 } } });
    const prompt = fake.requests.at(-1)!.body.messages.map((m: { content: string }) => m.content);
    expect(prompt).not.toContain('First version.');
    expect((await em().findOneOrFail(Message, messageId)).content).toBe('Second version.');

    const swipe = recordingSinks();
    await responder.swipe(messageId, -1, swipe);
    expect(swipe.sinks[0]!.finished).toMatchObject({ text: 'First version.', info: { alternative: { index: 1, count: 2 } } });
    expect((await em().findOneOrFail(Message, messageId)).content).toBe('First version.');
    const branches = await em().find(StoryBranch, { message: messageId }, { orderBy: { branchOrder: 'asc' } });
    expect(branches.map((b) => [b.content, b.isSelected])).toEqual([
      ['First version.', true],
      ['Second version.', false],
    ]);

    fake.next({ text: 'and then the chorus.' });
    const more = recordingSinks();
    await responder.continueReply(messageId, actor, more);
    expect(more.sinks[0]!.finished?.text).toBe('First version. and then the chorus.');
    const last = fake.requests.at(-1)!.body.messages.at(-1);
    expect(last).toMatchObject({ role: 'system', content: expect.stringContaining('Continue your last message') });
  });

  it('refuses to regenerate an older reply', async () => {
    const older = await em().findOneOrFail(
      Message,
      { conversation: conversation.id, role: 'assistant' },
      { orderBy: { createdAt: 'asc' } },
    );
    await expect(responder.regenerate(older.id, actor, recordingSinks())).rejects.toThrow(/Only the latest reply/);
  });

  it('only stores messages that do not address the character in a mentions-only channel', async () => {
    const work = em();
    await bindCharacter(work, actor, { id: '920000000000000009', kind: 'channel' }, character);
    const outcome = await responder.onMessage(
      { channelId: '920000000000000009', author: ione, guild, content: 'just chatting with friends', addressed: false },
      recordingSinks(),
    );
    expect(outcome).toBe('stored');
    const named = await responder.onMessage(
      { channelId: '920000000000000009', author: ione, guild, content: 'what do you think, aria?', addressed: false },
      recordingSinks(),
    );
    expect(named).toBe('replied');
    expect(await responder.onMessage({ channelId: '999', author: ione, content: 'hi', addressed: true }, recordingSinks())).toBe(
      'not-bound',
    );
  });

  it('does not let a character banned from the server speak, even when its reply is regenerated', async () => {
    const latest = await em().findOneOrFail(
      Message,
      { conversation: conversation.id, role: 'assistant' },
      { orderBy: { createdAt: 'desc' } },
    );
    await em().nativeUpdate(Guild, { id: actor.guild!.id }, { settings: { bannedCharacters: [character.id] } });
    const banned = await resolveActor(em(), { user: ione, guild });
    const requests = fake.requests.length;
    const sinks = recordingSinks();
    await responder.regenerate(latest.id, banned, sinks);
    expect(sinks.sinks[0]!.failed).toBe('Aria is banned from this server by its admins.');
    expect(fake.requests.length).toBe(requests);
    await em().nativeUpdate(Guild, { id: actor.guild!.id }, { settings: {} });
  });
});
