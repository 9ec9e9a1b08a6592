import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { deleteUserMessage, editUserMessage } from '../../src/chat/history.js';
import { Responder } from '../../src/chat/responder.js';
import { recall } from '../../src/chat/retrieval.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Conversation, Message, VectorMemory, type ICharacter, type IConversation } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { ProviderRegistry, seedSystemInstances } from '../../src/llm/registry.js';
import { createLogger } from '../../src/logger.js';
import { addLore } from '../../src/knowledge/lore.js';
import { MEMORIZE_QUEUE, memorizeHandler, requeueUnmemorized } from '../../src/memory/memorize.js';
import { SUMMARIZE_QUEUE, summarizeHandler, summaryOf } from '../../src/memory/summary.js';
import { createJobQueue } from '../../src/queue/create-job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait-for.js';
import { recordingSinks } from '../support/recording-sink.js';
import { heldEmbedder, jobContext } from '../support/job-context.js';

const DIMENSION = 256;
const guild = { id: '931000000000000001', name: 'Harbour' };
const ione = { id: '121000000000000001', username: 'ione' };
const marcus = { id: '121000000000000002', username: 'marcus' };
const inn = '921000000000000001';
const dm = '921000000000000002';
let db: TestDatabase;
let fake: FakeServer;
let queue: JobQueue;
let responder: Responder;
let actor: Actor;
let aria: ICharacter;
let conversation: IConversation;
const embedder = new HashingEmbedder(DIMENSION);
const em = () => db.orm.em.fork();
let discordIds = 0n;

async function say(channelId: string, author: typeof ione, content: string, inGuild = true) {
  const sinks = recordingSinks();
  await responder.onMessage(
    {
      channelId,
      discordMessageId: String(941000000000000000n + discordIds++),
      author,
      guild: inGuild ? guild : undefined,
      content,
      addressed: true,
    },
    sinks,
  );
  return sinks.sinks.at(-1)!;
}

const memoryOf = async (replyId: string) => {
  const rows = await em().find(VectorMemory, { message: replyId });
  return rows.length === 1 ? rows[0]! : undefined;
};

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  fake = await startFakeOpenAI();
  const config = loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'fake-model' });
  await seedSystemInstances(em(), config);
  const providers = new ProviderRegistry({ config });
  const logger = createLogger('silent');
  const resolveModel = (request: Parameters<ProviderRegistry['resolve']>[1]) => providers.resolve(em(), request);
  queue = createJobQueue({ redisUrl: process.env.REDIS_URL, logger, prefix: `test-${randomBytes(4).toString('hex')}` });
  queue.process(MEMORIZE_QUEUE, memorizeHandler({ orm: db.orm, embedder }));
  queue.process(SUMMARIZE_QUEUE, summarizeHandler({ orm: db.orm, resolveModel }));
  responder = new Responder({ orm: db.orm, embedder, resolveModel, logger, queue, historyLimit: 12 });
  actor = await resolveActor(em(), { user: ione, guild });
  const work = em();
  aria = await createCharacter(work, actor, { name: 'Aria', personalityPrompt: 'A cheerful bard.', visibility: 'public' });
  conversation = await bindCharacter(work, actor, { id: inn, kind: 'thread' }, aria);
});
afterAll(async () => {
  await queue?.close();
  await fake?.close();
  await db?.close();
});
beforeEach(() => {
  fake.reset();
  fake.reply('Noted.');
});

describe('conversation memories', () => {
  it('remember a finished exchange: the person’s words and the reply, linked to both', async () => {
    fake.next({ text: 'Ione is a lovely name for a sister!' });
    const sink = await say(inn, ione, 'My sister is called Ione and she sails the northern sea.');
    const replyId = sink.finished!.info.messageId;
    const memory = await waitFor(() => memoryOf(replyId), 'the memory of the first exchange');
    expect(memory.content).toBe(
      'ione: My sister is called Ione and she sails the northern sea.\nAria: Ione is a lovely name for a sister!',
    );
    expect(memory.memoryType).toBe('conversation');
    expect(memory.conversation?.id).toBe(conversation.id);
    expect(memory.character?.id).toBe(aria.id);
    expect(memory.user?.id).toBe(actor.user.id);
    const meta = memory.metadata as { guildId: string; channelId: string; discordMessageIds: string[]; messageIds: string[] };
    expect(meta).toMatchObject({ guildId: guild.id, channelId: inn });
    expect(meta.messageIds).toHaveLength(2);
    expect(meta.discordMessageIds).toHaveLength(2);
    expect(meta.messageIds.at(-1)).toBe(replyId);
  });

  it('keep only the chosen alternative: a regenerate and a swipe replace the memory', async () => {
    fake.next({ text: 'Peanuts are off the menu then.' });
    const sink = await say(inn, ione, 'I am allergic to peanuts, remember that.');
    const replyId = sink.finished!.info.messageId;
    await waitFor(async () => (await memoryOf(replyId))?.content.includes('off the menu'), 'the first version');
    fake.next({ text: 'No peanuts for you, ever.' });
    await responder.regenerate(replyId, actor, recordingSinks());
    await waitFor(async () => (await memoryOf(replyId))?.content.includes('ever.'), 'the regenerated version');
    await responder.swipe(replyId, -1, recordingSinks());
    const swiped = await waitFor(async () => {
      const memory = await memoryOf(replyId);
      return memory?.content.includes('off the menu') && memory;
    }, 'the swiped-back version');
    expect(swiped.content).not.toContain('ever.');
    expect(await em().count(VectorMemory, { message: replyId })).toBe(1);
  });

  it('are recalled later in the same conversation, and from other conversations as the character is configured', async () => {
    const dmActor = await resolveActor(em(), { user: ione });
    await bindCharacter(em(), dmActor, { id: dm, kind: 'dm' }, aria);
    fake.next({ text: 'A lighthouse! How romantic.' });
    const dmReply = (await say(dm, ione, 'I live in the old lighthouse at Port Calder.', false)).finished!.info.messageId;
    await waitFor(() => memoryOf(dmReply), 'the DM memory');
    const marcusActor = await resolveActor(em(), { user: marcus });
    await bindCharacter(em(), marcusActor, { id: '921000000000000003', kind: 'dm' }, aria);
    fake.next({ text: 'A lighthouse too? What a coincidence.' });
    const marcusReply = (await say('921000000000000003', marcus, 'I live in a lighthouse as well, at Port Calder.', false)).finished!.info
      .messageId;
    await waitFor(() => memoryOf(marcusReply), 'Marcus’s memory');

    // Asked in a DM of Ione's (read by her alone): with 'everywhere', her DM memory with Aria is recalled wherever asked.
    const ask = (shared: 'off' | 'server' | 'everywhere', direct = true) =>
      recall(em(), embedder, {
        characterId: aria.id,
        conversationId: conversation.id,
        recent: [{ id: 'q', role: 'user', speaker: 'ione', content: 'Where do I live, the lighthouse at Port Calder? And my sister?' }],
        userId: actor.user.id,
        guildId: direct ? '' : guild.id,
        direct,
        shared,
      });
    const everywhere = await ask('everywhere');
    const other = everywhere.filter((memory) => memory.kind === 'other');
    expect(other.map((memory) => memory.content)).toEqual([expect.stringContaining('old lighthouse at Port Calder')]);
    // A direct message: no guild id (the link is made by the Discord layer, on DISCORD_WEB_URL).
    expect(other[0]!.source?.jump).toEqual({
      channelId: dm,
      messageId: ((await memoryOf(dmReply))!.metadata as { discordMessageIds: string[] }).discordMessageIds.at(-1),
    });
    expect(everywhere.some((memory) => memory.kind === 'conversation' && memory.content.includes('sister is called Ione'))).toBe(true);
    // 'server' in a DM: from direct messages only, which this memory is.
    expect((await ask('server')).filter((memory) => memory.kind === 'other').map((memory) => memory.content)).toEqual([
      expect.stringContaining('old lighthouse at Port Calder'),
    ]);
    expect((await ask('off')).filter((memory) => memory.kind === 'other')).toEqual([]);
    // A server channel never shows what was said in a DM, whatever the setting.
    expect((await ask('everywhere', false)).filter((memory) => memory.kind === 'other')).toEqual([]);
    // The question being answered is what is searched for, not the small talk before it.
    const afterSmallTalk = await recall(em(), embedder, {
      characterId: aria.id,
      conversationId: conversation.id,
      recent: [
        { id: 's1', role: 'user', speaker: 'ione', content: 'The weather is grey and the peanuts at the market were cheap today.' },
        { id: 's2', role: 'assistant', speaker: 'Aria', content: 'Grey weather, cheap peanuts, a fine market day!' },
        { id: 's3', role: 'user', speaker: 'ione', content: 'What is my sister called again?' },
      ],
      shared: 'off',
    });
    expect(afterSmallTalk.find((memory) => memory.kind === 'conversation')?.content).toContain('My sister is called Ione');
    // Marcus’s memory is never Ione’s.
    expect(everywhere.some((memory) => memory.content.includes('as well'))).toBe(false);
  });

  it('are not kept while the conversation is paused or the character’s memory is off', async () => {
    const run = memorizeHandler({ orm: db.orm, embedder });
    const context = jobContext(MEMORIZE_QUEUE);
    const settings = (await em().findOneOrFail(Conversation, conversation.id)).settings;
    await em().nativeUpdate(Conversation, { id: conversation.id }, { settings: { ...settings, memoryPaused: true } });
    const paused = (await say(inn, ione, 'This one is off the record entirely.')).finished!.info.messageId;
    expect(await run({ replyId: paused }, context)).toEqual({ memorized: false });
    await em().nativeUpdate(Conversation, { id: conversation.id }, { settings });
    expect(await run({ replyId: paused }, context)).toEqual({ memorized: true });
    await em().nativeDelete(VectorMemory, { message: paused });

    const quiet = await createCharacter(em(), actor, { name: 'Quiet', personalityPrompt: 'Forgets.', config: { memory_enabled: false } });
    const quietChannel = await bindCharacter(em(), actor, { id: '921000000000000004', kind: 'thread' }, quiet);
    const forgotten = (await say('921000000000000004', ione, 'Remember me?')).finished!.info.messageId;
    expect(await run({ replyId: forgotten }, context)).toEqual({ memorized: false });
    expect(await em().count(VectorMemory, { conversation: quietChannel.id })).toBe(0);
    expect(await em().count(VectorMemory, { message: paused })).toBe(0);
  });

  it('follow an edit of the person’s message: the memory is written again with the new words', async () => {
    fake.next({ text: 'A bronze hammer, how fine.' });
    const sink = await say(inn, ione, 'My hammer is made of bronze.');
    const said = String(941000000000000000n + discordIds - 1n);
    const replyId = sink.finished!.info.messageId;
    await waitFor(async () => (await memoryOf(replyId))?.content.includes('bronze'), 'the first memory');
    expect(await editUserMessage(em(), said, 'My hammer is made of iron.', queue)).toBe(true);
    const edited = await waitFor(async () => {
      const memory = await memoryOf(replyId);
      return memory?.content.includes('made of iron') && memory;
    }, 'the memory with the edited words');
    expect(edited.content).not.toContain('made of bronze');
    expect(await editUserMessage(em(), '999999999999999999', 'Never stored.', queue)).toBe(false);
  });

  it('never keep a message deleted while its exchange was being memorized (issue 16, item 6)', async () => {
    fake.next({ text: 'Your door code is safe with me.' });
    const sink = await say(inn, ione, 'The door code of the harbour office is 7731, remember it.');
    const said = String(941000000000000000n + discordIds - 1n);
    const replyId = sink.finished!.info.messageId;
    await waitFor(() => memoryOf(replyId), 'the first memory');
    const saidId = (await em().findOneOrFail(Message, { discordMessageId: said })).id;
    // The job runs again (a swipe, a retry) and is held in the middle, after it read the exchange, while Ione deletes
    // her Discord message; then it goes on.
    const { embedder: gated, entered: inEmbed, release } = heldEmbedder(embedder);
    const run = memorizeHandler({ orm: db.orm, embedder: gated })({ replyId }, jobContext(MEMORIZE_QUEUE, 'race'));
    await inEmbed;
    expect(await deleteUserMessage(em(), said)).toBe(true);
    release();
    await run;
    const quoting = await em()
      .getConnection()
      .execute<{ id: string }[]>(
        `select id from vector_memories where message_id = ? or jsonb_exists(metadata->'messageIds', ?) or content like '%7731%'`,
        [replyId, saidId],
      );
    const left = await memoryOf(replyId);
    expect(left?.content ?? '').not.toContain('7731');
    expect(quoting.filter((row) => row.id !== left?.id)).toEqual([]);
    expect((left?.metadata as { messageIds?: string[] } | undefined)?.messageIds ?? []).not.toContain(saidId);
  });

  it('are made at start for recent replies that have none (a job lost in a crash)', async () => {
    const work = em();
    // One at a time, so that each is stored after the one before.
    const add = async (data: Record<string, unknown>) => {
      const message = work.create(Message, { conversation: conversation.id, ...data } as never);
      await work.flush();
      await new Promise((resolve) => setTimeout(resolve, 5));
      return message as { id: string };
    };
    await add({ role: 'user', content: 'Tell me about the lost ship.', author: actor.user.id, authorName: 'ione' });
    const lost = await add({ role: 'assistant', content: 'A reply whose job was lost.', character: aria.id });
    await add({ role: 'user', content: 'lol ok', author: actor.user.id, authorName: 'ione' });
    const empty = await add({ role: 'assistant', content: 'Haha.', character: aria.id });
    expect(await requeueUnmemorized(em(), queue)).toBeGreaterThanOrEqual(2);
    const memory = await waitFor(() => memoryOf(lost.id), 'the re-queued memory');
    expect(memory.content).toContain('Tell me about the lost ship.');
    expect(memory.content).toContain('A reply whose job was lost.');
    // Small talk is not remembered, and is not queued again either.
    await waitFor(async () => (await em().findOneOrFail(Message, empty.id)).metadata.notWorthRemembering === true, 'the small talk judged');
    expect(await memoryOf(empty.id)).toBeUndefined();
    // Once every recent reply has its memory, or was found to hold nothing, nothing more is queued.
    await waitFor(async () => (await requeueUnmemorized(em(), queue)) === 0, 'every recent reply remembered');
  });

  it('go with the reply: deleting it deletes its memory', async () => {
    fake.next({ text: 'Gone soon.' });
    const replyId = (await say(inn, ione, 'Something I will regret saying.')).finished!.info.messageId;
    await waitFor(() => memoryOf(replyId), 'the memory');
    await em().nativeDelete(Message, { id: replyId });
    expect(await em().count(VectorMemory, { message: replyId })).toBe(0);
  });
});

describe('lorebooks in the prompt', () => {
  it('inject an entry when its keyword comes up, constant ones always, and list them as sources', async () => {
    const work = em();
    await addLore(work, queue, actor, aria, {
      name: 'The lighthouse',
      keys: ['lighthouse'],
      content: 'The Port Calder lighthouse is haunted by a keeper named Brannoc.',
    });
    await addLore(work, queue, actor, aria, {
      name: 'Setting',
      keys: [],
      constant: true,
      content: 'The story takes place in a cold harbour town.',
    });
    await say(inn, ione, 'Tell me about the weather today.');
    const text = () =>
      fake.requests
        .at(-1)!
        .body.messages.map((m: { content: string }) => m.content)
        .join('\n');
    const plain = text();
    expect(plain).toContain('The story takes place in a cold harbour town.');
    expect(plain).not.toContain('Brannoc');
    const sink = await say(inn, ione, 'Have you ever been up the LIGHTHOUSE?');
    const system = text();
    expect(system).toContain('The Port Calder lighthouse is haunted by a keeper named Brannoc.');
    const reply = await em().findOneOrFail(Message, sink.finished!.info.messageId);
    const sources = (reply.metadata as { sources: { kind: string; label: string }[] }).sources;
    expect(
      sources
        .filter((source) => source.kind === 'lore')
        .map((source) => source.label)
        .sort(),
    ).toEqual(['Setting (always on)', 'The lighthouse (keyword “lighthouse”)']);
  });
});

describe('rolling summaries', () => {
  it('fold messages that left the window into a summary, in the background, used by later prompts', async () => {
    fake.replyWith((request) => {
      const system = String(request.body.messages?.[0]?.content ?? '');
      if (system.startsWith('You keep the running summary')) return { text: 'Ione has a sister called Ione and is allergic to peanuts.' };
      return { text: 'Noted.' };
    });
    for (let i = 0; i < 12; i++) await say(inn, ione, `Small talk number ${i} about the weather.`);
    const summary = await waitFor(
      async () => summaryOf((await em().findOneOrFail(Conversation, conversation.id)) as IConversation),
      'the summary',
    );
    expect(summary.text).toBe('Ione has a sister called Ione and is allergic to peanuts.');
    const summaryRequest = fake.requests.find((request) =>
      String(request.body.messages[0].content).startsWith('You keep the running summary'),
    )!;
    const folded = String(summaryRequest.body.messages[1].content);
    expect(folded).toContain('Summary so far:\n(none yet)');
    expect(folded).toContain('ione: My sister is called Ione and she sails the northern sea.');
    // The messages still in the window are not in the summary request.
    expect(folded).not.toContain('Small talk number 11');
    await say(inn, ione, 'What do you know about me?');
    const last = fake.requests.at(-1)!;
    expect(last.body.messages[1].content).toContain('[Summary: Ione has a sister called Ione');
  });
});
