import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { Responder } from '../../src/chat/responder.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor } from '../../src/core/identity.js';
import { Message, PersonNote, type ICharacter } from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { ProviderRegistry, seedSystemInstances } from '../../src/llm/registry.js';
import { createLogger } from '../../src/logger.js';
import { forget, setMemoryPaused } from '../../src/memory/control.js';
import { deleteUserData } from '../../src/memory/delete-user-data.js';
import { NOTES_QUEUE, notesHandler } from '../../src/memory/notes-job.js';
import { notesForPrompt } from '../../src/memory/notes.js';
import { pinMessage } from '../../src/memory/pins.js';
import { replySources } from '../../src/memory/sources.js';
import { createJobQueue } from '../../src/queue/create-job-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import type { FakeServer, RecordedRequest } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { recordingSinks } from '../support/recording-sink.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Notes about each person, through the real path: a reply is written by the responder, its notes job is queued
 * (no delay here) and run by the queue, the model (a fake OpenAI server on 127.0.0.1) is asked for facts, and the
 * next reply's prompt carries them, within the privacy rule of recalled memories.
 */
const guild = { id: '931500000000000001', name: 'Harbour' };
const ione = { id: '121500000000000001', username: 'ione' };
const marcus = { id: '121500000000000002', username: 'marcus' };
const dm = '921500000000000001';
const staff = '921500000000000002';
const tavern = '921500000000000003';
const square = '921500000000000004';
let db: TestDatabase;
let fake: FakeServer;
let queue: JobQueue;
let responder: Responder;
let aria: ICharacter;
let discordIds = 0n;
const em = () => db.orm.em.fork();
/** What the fake's note-taker answers next (the chat replies are fixed). */
let notesAnswer = '[]';

const isNotesRequest = (request: RecordedRequest) => String(request.body?.messages?.[0]?.content ?? '').includes('notes about');
const chatRequests = () => fake.requests.filter((request) => request.path.endsWith('/chat/completions') && !isNotesRequest(request));
const notesRequests = () => fake.requests.filter(isNotesRequest);
const promptText = (request: RecordedRequest) => (request.body.messages as { content: string }[]).map((m) => String(m.content)).join('\n');

async function say(channelId: string, author: typeof ione, content: string, place: { inGuild: boolean; isPublic?: boolean }) {
  const sinks = recordingSinks();
  const discordMessageId = String(951500000000000000n + discordIds++);
  await responder.onMessage(
    {
      channelId,
      discordMessageId,
      author,
      guild: place.inGuild ? guild : undefined,
      content,
      addressed: true,
      channelPublic: place.isPublic,
    },
    sinks,
  );
  const replyId = sinks.sinks.at(-1)!.finished!.info.messageId;
  // Its notes job, run before the next line is said (as a pause in the conversation would let it).
  await notesTaken(replyId);
  return { replyId, discordMessageId };
}

/** Waits for the notes job of a reply to finish (it may add nothing). */
async function notesTaken(replyId: string) {
  return waitFor(async () => (await queue.getJob(NOTES_QUEUE, `notes-${replyId}`))?.status === 'completed', 'the notes job');
}

const notesOf = async (userId: string) =>
  (await em().find(PersonNote, { user: userId, character: aria.id }, { orderBy: { createdAt: 'asc' }, populate: ['conversation'] })).map(
    (note) => note,
  );

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 64 });
  fake = await startFakeOpenAI();
  const config = loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'fake-model' });
  await seedSystemInstances(em(), config);
  const providers = new ProviderRegistry({ config });
  const logger = createLogger('silent');
  const resolveModel = (request: Parameters<ProviderRegistry['resolve']>[1]) => providers.resolve(em(), request);
  queue = createJobQueue({ redisUrl: process.env.REDIS_URL, logger, prefix: `test-${randomBytes(4).toString('hex')}` });
  queue.process(NOTES_QUEUE, notesHandler({ orm: db.orm, resolveModel }));
  responder = new Responder({ orm: db.orm, embedder: new HashingEmbedder(64), resolveModel, logger, queue, notesDelayMs: 0 });
  const owner = await resolveActor(em(), { user: ione, guild });
  aria = await createCharacter(em(), owner, { name: 'Aria', personalityPrompt: 'A cheerful bard.', visibility: 'public' });
});
afterAll(async () => {
  await queue?.close();
  await fake?.close();
  await db?.close();
});
beforeEach(async () => {
  fake.reset();
  fake.requests.length = 0;
  notesAnswer = '[]';
  fake.replyWith((request) => (isNotesRequest(request) ? { text: notesAnswer } : { text: 'How lovely.' }));
  await em().nativeDelete(PersonNote, {});
});

describe('notes about each person', () => {
  it('are taken from a finished exchange by the model, merged without repeats, and always in the next prompt', async () => {
    const actor = await resolveActor(em(), { user: ione });
    await bindCharacter(em(), actor, { id: dm, kind: 'dm' }, aria);
    notesAnswer =
      'Here you go:\n```json\n[{"note": "Has a sister named Wilhelmina.", "from": [1]}, "Works as a ferry pilot at Port Calder."]\n```';
    await say(dm, ione, 'My sister is called Wilhelmina. I work as a ferry pilot at Port Calder.', { inGuild: false });
    // The model was given the person's line, numbered, and asked for a JSON array.
    expect(promptText(notesRequests().at(-1)!)).toContain('[1] ione: My sister is called Wilhelmina.');
    let notes = await notesOf(actor.user.id);
    expect(notes.map((note) => note.content)).toEqual(['Has a sister named Wilhelmina.', 'Works as a ferry pilot at Port Calder.']);
    expect(notes.every((note) => note.shared && note.conversation?.id && note.messageIds.length === 1)).toBe(true);

    // Bullet lines work too; a repeat is dropped, a changed fact replaces the note it names.
    notesAnswer = '- Works as a ferry pilot at Port Calder.\n- Has a sister named Wilhelmina, who is a sailor.\n- Loves plum cake.';
    await say(dm, ione, 'Wilhelmina became a sailor, by the way. And plum cake is my favourite.', { inGuild: false });
    // The existing notes were shown to the model, numbered.
    expect(promptText(notesRequests().at(-1)!)).toMatch(/1\. .*\n2\. /);
    notes = await notesOf(actor.user.id);
    expect(notes.map((note) => note.content).sort()).toEqual([
      'Has a sister named Wilhelmina, who is a sailor.',
      'Loves plum cake.',
      'Works as a ferry pilot at Port Calder.',
    ]);

    await say(dm, ione, 'What do you remember of me?', { inGuild: false });
    const prompt = chatRequests().at(-1)!.body.messages as { content: string }[];
    const section = prompt.find((message) => message.content.startsWith('What Aria knows about ione:'));
    expect(section?.content).toContain('- Loves plum cake.');
    // Right after the main prompt (and the summary, when there is one), where ST's memory extensions put theirs.
    expect(prompt.indexOf(section!)).toBe(1);
  });

  it('are not taken while memory is paused, nor from exchanges that hold nothing', async () => {
    const actor = await resolveActor(em(), { user: marcus });
    await bindCharacter(em(), actor, { id: '921500000000000009', kind: 'dm' }, aria);
    notesAnswer = '["Is called Marcus."]';
    await say('921500000000000009', marcus, 'hi!', { inGuild: false });
    expect(notesRequests()).toHaveLength(0);
    const conversation = await (await import('../../src/memory/control.js')).conversationIn(em(), '921500000000000009');
    await setMemoryPaused(em(), actor, conversation, true);
    await say('921500000000000009', marcus, 'My dog is called Biscuit.', { inGuild: false });
    expect(notesRequests()).toHaveLength(0);
    expect(await notesOf(actor.user.id)).toEqual([]);
    await setMemoryPaused(em(), actor, conversation, false);
  });

  it('said in a staff-only channel never reach a reply in a public channel; public ones do, in the same server', async () => {
    const actor = await resolveActor(em(), { user: ione, guild });
    await bindCharacter(em(), actor, { id: staff, kind: 'channel' }, aria);
    await bindCharacter(em(), actor, { id: tavern, kind: 'channel' }, aria);
    await bindCharacter(em(), actor, { id: square, kind: 'channel' }, aria);
    notesAnswer = '["Is planning a surprise audit of the treasury."]';
    await say(staff, ione, 'I am planning a surprise audit of the treasury.', { inGuild: true, isPublic: false });
    notesAnswer = '["Plays the lute on Fridays."]';
    await say(tavern, ione, 'I play the lute every Friday night.', { inGuild: true, isPublic: true });
    notesAnswer = '[]';

    await say(square, ione, 'Aria, what do you know about me?', { inGuild: true, isPublic: true });
    const inSquare = promptText(chatRequests().at(-1)!);
    expect(inSquare).toContain('Plays the lute on Fridays.');
    expect(inSquare).not.toContain('treasury');
    // In the staff channel itself the note is there.
    await say(staff, ione, 'Anything to remind me of?', { inGuild: true, isPublic: false });
    expect(promptText(chatRequests().at(-1)!)).toContain('treasury');
    // A channel that turns private stops receiving notes from elsewhere; a DM gets no server notes by default.
    const notes = (conversation: { id: string; kind: 'channel' | 'dm' }, guildId?: string, shared?: 'off' | 'server' | 'everywhere') =>
      notesForPrompt(em(), { userId: actor.user.id, characterId: aria.id, conversation, guildId, shared }).then((list) =>
        list.map((note) => note.content),
      );
    const squareRow = await (await import('../../src/memory/control.js')).conversationIn(em(), square);
    expect(await notes({ id: squareRow.id, kind: 'channel' }, guild.id, 'off')).toEqual([]);
    expect(await notes({ id: squareRow.id, kind: 'channel' }, '999999999999999999')).toEqual([]);
    expect(await notes({ id: 'a0000000-0000-4000-8000-000000000000', kind: 'dm' })).toEqual([]);
    expect((await notes({ id: 'a0000000-0000-4000-8000-000000000000', kind: 'dm' }, undefined, 'everywhere')).sort()).toEqual([
      'Is planning a surprise audit of the treasury.',
      'Plays the lute on Fridays.',
    ]);
  });

  it('are listed, with the pinned messages, in the Sources of a reply that had them; a note’s text only for its person', async () => {
    const channel = '921500000000000005';
    const actor = await resolveActor(em(), { user: ione, guild });
    const other = await resolveActor(em(), { user: marcus, guild });
    await bindCharacter(em(), actor, { id: channel, kind: 'channel' }, aria);
    notesAnswer = '["Collects old maps."]';
    // Too long for the history window once older (about 5,000 tokens of an 8k context): pinned, it is in the
    // pinned part of the prompt instead, so the reply's prompt held it as a pin.
    const long = `I collect old maps of the coast. ${'The coastline changes on every chart. '.repeat(720)}`;
    const pinned = await say(channel, ione, long, { inGuild: true, isPublic: true });
    notesAnswer = '[]';
    const conversation = await (await import('../../src/memory/control.js')).conversationIn(em(), channel);
    await pinMessage(em(), actor, conversation, pinned.discordMessageId);
    const { replyId } = await say(channel, ione, 'Which of my maps is the oldest?', { inGuild: true, isPublic: true });
    expect(promptText(chatRequests().at(-1)!)).toContain('Pinned messages:\n- ione: I collect old maps of the coast.');

    const note = (await notesOf(actor.user.id)).find((n) => n.content === 'Collects old maps.')!;
    const pin = await em().findOneOrFail(Message, { discordMessageId: pinned.discordMessageId });
    const stored = ((await em().findOneOrFail(Message, replyId)).metadata as { sources: { kind: string; id: string }[] }).sources;
    expect(stored).toEqual(
      expect.arrayContaining([
        { kind: 'note', id: note.id },
        { kind: 'pin', id: pin.id },
      ]),
    );
    // Only ids are kept: whose the note is, and its text, are read when the button is pressed.
    expect(JSON.stringify(stored)).not.toContain('Collects old maps');

    const seenBy = async (userId: string) => {
      const { sources } = await replySources(em(), replyId, { userId, channelId: channel });
      return { note: sources.find((s) => s.kind === 'note'), pin: sources.find((s) => s.kind === 'pin') };
    };
    const hers = await seenBy(actor.user.id);
    expect(hers.note).toMatchObject({ state: 'shown', excerpt: 'Collects old maps.', label: 'about you' });
    expect(hers.pin).toMatchObject({
      state: 'shown',
      label: 'ione',
      jump: { guildId: guild.id, channelId: channel, messageId: pinned.discordMessageId },
    });
    expect(hers.pin!.excerpt).toMatch(/^I collect old maps of the coast\. The coastline .*…$/);
    // Someone else in the channel sees that a note was used, not what it says; the pinned message is this channel's.
    const his = await seenBy(other.user.id);
    expect(his.note).toEqual({ kind: 'note', id: note.id, state: 'private' });
    expect(his.pin).toMatchObject({ state: 'shown', label: 'ione' });
    // Forgotten since: the note's text is gone for its person too.
    await em().nativeDelete(PersonNote, { id: note.id });
    expect((await seenBy(actor.user.id)).note).toEqual({ kind: 'note', id: note.id, state: 'forgotten' });
  });

  it('go when a message they came from is forgotten, and with the person’s data', async () => {
    const actor = await resolveActor(em(), { user: ione });
    await bindCharacter(em(), actor, { id: dm, kind: 'dm' }, aria);
    notesAnswer = '[{"note": "Is afraid of thunder.", "from": [1]}]';
    const said = await say(dm, ione, 'I am terribly afraid of thunder.', { inGuild: false });
    notesAnswer = '[{"note": "Keeps bees.", "from": [1]}]';
    await say(dm, ione, 'I keep bees in my garden.', { inGuild: false });
    expect((await notesOf(actor.user.id)).map((note) => note.content)).toEqual(['Is afraid of thunder.', 'Keeps bees.']);
    const conversation = await (await import('../../src/memory/control.js')).conversationIn(em(), dm);
    await forget(em(), actor, conversation, { discordMessageId: said.discordMessageId });
    expect((await notesOf(actor.user.id)).map((note) => note.content)).toEqual(['Keeps bees.']);
    await deleteUserData(em(), actor.user.id);
    expect(await em().count(PersonNote, {})).toBe(0);
  });
});
