import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { deleteUserMessage } from '../../src/chat/history.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import {
  Character,
  Conversation,
  Message,
  User,
  VectorMemory,
  type ICharacter,
  type IConversation,
  type IMessage,
} from '../../src/db/entities/index.js';
import { HashingEmbedder } from '../../src/embeddings/hashing-embedder.js';
import { UserError } from '../../src/errors.js';
import { conversationIn, exportConversation, forget, setMemoryPaused } from '../../src/memory/control.js';
import { deleteUserData } from '../../src/memory/delete-user-data.js';
import { MEMORIZE_QUEUE, memorizeHandler } from '../../src/memory/memorize.js';
import { saveSummary, summaryOf } from '../../src/memory/summary.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { jobContext } from '../support/job-context.js';

const DIMENSION = 64;
const guild = { id: '932000000000000001', name: 'Harbour' };
const ione = { id: '122000000000000001', username: 'ione' };
const marcus = { id: '122000000000000002', username: 'marcus' };
let db: TestDatabase;
let ioneActor: Actor;
let marcusActor: Actor;
let aria: ICharacter;
const embedder = new HashingEmbedder(DIMENSION);
const em = () => db.orm.em.fork();
const memorize = () => memorizeHandler({ orm: db.orm, embedder });
const context = jobContext(MEMORIZE_QUEUE);
let channels = 0;
let discordIds = 0n;

/** A conversation of `turns` exchanges (person, reply), each memorized, a minute apart starting at `start`. */
async function conversationWith(turns: { by: Actor; text: string }[], start = new Date('2026-11-01T10:00:00Z')) {
  const work = em();
  const conversation = await bindCharacter(
    work,
    ioneActor,
    { id: String(922000000000000000n + BigInt(channels++)), kind: 'channel' },
    aria,
  );
  const replies: IMessage[] = [];
  const asked: IMessage[] = [];
  for (const [i, turn] of turns.entries()) {
    const at = new Date(start.getTime() + i * 60_000);
    asked.push(
      work.create(Message, {
        conversation,
        role: 'user',
        content: turn.text,
        author: turn.by.user,
        authorName: turn.by.user.username,
        discordMessageId: String(942000000000000000n + discordIds++),
        createdAt: at,
      }) as IMessage,
    );
    replies.push(
      work.create(Message, {
        conversation,
        role: 'assistant',
        content: `Reply to “${turn.text}”`,
        character: aria,
        discordMessageId: String(942000000000000000n + discordIds++),
        createdAt: new Date(at.getTime() + 1000),
      }) as IMessage,
    );
  }
  await work.flush();
  for (const reply of replies) expect(await memorize()({ replyId: reply.id }, context)).toEqual({ memorized: true });
  return { conversation: conversation as IConversation, asked, replies };
}

const count = (entity: typeof Message | typeof VectorMemory, conversation: IConversation) =>
  em().count(entity as typeof Message, { conversation: conversation.id });

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: DIMENSION });
  ioneActor = await resolveActor(em(), { user: ione, guild });
  marcusActor = await resolveActor(em(), { user: marcus, guild });
  aria = await createCharacter(em(), ioneActor, { name: 'Aria', personalityPrompt: 'A bard.', visibility: 'guild' });
});
afterAll(() => db?.close());

describe('/memory forget', () => {
  it('forgets one message for real: the message, its exchange’s memory, nothing else', async () => {
    const { conversation, asked } = await conversationWith([
      { by: ioneActor, text: 'My sister is called Ione.' },
      { by: ioneActor, text: 'I am allergic to peanuts.' },
    ]);
    const result = await forget(em(), ioneActor, conversation, { discordMessageId: asked[0]!.discordMessageId! });
    expect(result).toMatchObject({ messages: 1, memories: 1 });
    const left = await em().find(VectorMemory, { conversation: conversation.id });
    expect(left.map((memory) => memory.content)).toEqual([expect.stringContaining('peanuts')]);
    expect(await em().count(Message, { id: asked[0]!.id })).toBe(0);
  });

  it('lets a person forget their own message, but a range or everything only for the starter or an admin', async () => {
    const { conversation, asked } = await conversationWith([
      { by: marcusActor, text: 'Marcus says something he regrets.' },
      { by: ioneActor, text: 'Ione says something.' },
    ]);
    await expect(forget(em(), marcusActor, conversation, { discordMessageId: asked[1]!.discordMessageId! })).rejects.toThrow(UserError);
    await expect(forget(em(), marcusActor, conversation, { everything: true })).rejects.toThrow(
      /started this conversation or a server admin/,
    );
    expect((await forget(em(), marcusActor, conversation, { discordMessageId: asked[0]!.discordMessageId! })).messages).toBe(1);
    const admin = { ...marcusActor, isGuildAdmin: true };
    expect((await forget(em(), admin, conversation, { everything: true })).messages).toBe(3);
  });

  it('forgets a time range and clears a summary that may hold it', async () => {
    const { conversation, replies } = await conversationWith([
      { by: ioneActor, text: 'Old news one.' },
      { by: ioneActor, text: 'Old news two.' },
      { by: ioneActor, text: 'Recent secret one.' },
      { by: ioneActor, text: 'Recent secret two.' },
    ]);
    await saveSummary(em(), conversation.id, {
      text: 'They talked about old news.',
      upToId: replies[1]!.id,
      upToAt: replies[1]!.createdAt.toISOString(),
      updatedAt: new Date().toISOString(),
    });
    // After the summary's end: the summary stays.
    const recent = await forget(em(), ioneActor, conversation, { since: replies[2]!.createdAt });
    expect(recent).toEqual({ messages: 1 + 2, memories: 2, summaryCleared: false });
    const contents = (await em().find(VectorMemory, { conversation: conversation.id })).map((memory) => memory.content).join('\n');
    expect(contents).not.toContain('Recent secret');
    expect(contents).toContain('Old news two');
    // Reaching into what the summary covers: the summary goes too.
    const all = await forget(em(), ioneActor, conversation, { everything: true });
    expect(all).toEqual({ messages: 5, memories: 2, summaryCleared: true });
    expect(await count(Message, conversation)).toBe(0);
    expect(await count(VectorMemory, conversation)).toBe(0);
    expect(summaryOf(await conversationIn(em(), conversation.discordChannelId))).toBeUndefined();
  });

  it('follows a person deleting their Discord message: the memories quoting it go too', async () => {
    const { conversation, asked } = await conversationWith([
      { by: ioneActor, text: 'Delete me later.' },
      { by: ioneActor, text: 'Keep me.' },
    ]);
    expect(await deleteUserMessage(em(), asked[0]!.discordMessageId!)).toBe(true);
    const left = await em().find(VectorMemory, { conversation: conversation.id });
    expect(left.map((memory) => memory.content)).toEqual([expect.stringContaining('Keep me.')]);
  });
});

describe('/memory pause, export and deleting a person’s data', () => {
  it('pauses and resumes: nothing new is remembered while paused', async () => {
    const { conversation } = await conversationWith([]);
    expect(await setMemoryPaused(em(), ioneActor, conversation, true)).toBe(true);
    await expect(setMemoryPaused(em(), marcusActor, conversation, false)).rejects.toThrow(UserError);
    const work = em();
    work.create(Message, {
      conversation: conversation.id,
      role: 'user',
      content: 'The lamp in the tower is blue.',
      author: ioneActor.user.id,
      authorName: 'ione',
      createdAt: new Date(Date.now() - 1000),
    });
    const reply = work.create(Message, { conversation: conversation.id, role: 'assistant', content: 'Shh.', character: aria.id });
    await work.flush();
    expect(await memorize()({ replyId: reply.id }, context)).toEqual({ memorized: false });
    expect(await setMemoryPaused(em(), ioneActor, conversation, false)).toBe(true);
    expect(await memorize()({ replyId: reply.id }, context)).toEqual({ memorized: true });
  });

  it('exports the conversation as JSON Lines, oldest first', async () => {
    const { conversation } = await conversationWith([
      { by: ioneActor, text: 'First.' },
      { by: marcusActor, text: 'Second, with "quotes"\nand a newline.' },
    ]);
    let text = '';
    for await (const line of exportConversation(em(), conversation)) text += line;
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.role, line.speaker, line.content])).toEqual([
      ['user', 'ione', 'First.'],
      ['assistant', 'Aria', 'Reply to “First.”'],
      ['user', 'marcus', 'Second, with "quotes"\nand a newline.'],
      ['assistant', 'Aria', 'Reply to “Second, with "quotes"\nand a newline.”'],
    ]);
  });

  it('deletes everything of a person and nothing of anyone else', async () => {
    const { conversation } = await conversationWith([
      { by: marcusActor, text: 'Marcus was here.' },
      { by: ioneActor, text: 'Ione was here.' },
    ]);
    const marcusCharacter = await createCharacter(em(), marcusActor, { name: 'Brannoc', personalityPrompt: 'A keeper.' });
    const result = await deleteUserData(em(), marcusActor.user.id);
    expect(result.messages).toBeGreaterThanOrEqual(1);
    expect(result.memories).toBeGreaterThanOrEqual(1);
    expect(await em().count(User, { id: marcusActor.user.id })).toBe(0);
    expect(await em().count(Character, { id: marcusCharacter.id })).toBe(0);
    // Named, so the caller deletes their stored pictures too (files, outside the database).
    expect(result.characterIds).toEqual([marcusCharacter.id]);
    const left = await em().find(Message, { conversation: conversation.id }, { orderBy: { createdAt: 'asc' } });
    expect(left.map((message) => message.content)).not.toContain('Marcus was here.');
    expect(left.map((message) => message.content)).toContain('Ione was here.');
    const memories = await em().find(VectorMemory, { conversation: conversation.id });
    expect(memories.map((memory) => memory.content)).toEqual([expect.stringContaining('Ione was here.')]);
    expect(await em().count(Conversation, { id: conversation.id })).toBe(1);
  });

  it('drops the closing summary of a scene the person spoke in, and only there', async () => {
    // A Marcus of his own: the test above deleted the first one.
    const marcusAgain = await resolveActor(em(), { user: marcus, guild });
    const spoken = await conversationWith([{ by: marcusAgain, text: 'Marcus took the crown.' }]);
    const silent = await conversationWith([{ by: ioneActor, text: 'Ione watched.' }]);
    for (const { conversation } of [spoken, silent]) {
      await em().execute(
        `update conversations set settings = settings || '{"scene": {"summary": "Marcus took the crown.", "endedAt": "2026-11-01T11:00:00Z"}}'::jsonb where id = ?`,
        [conversation.id],
      );
    }
    await deleteUserData(em(), marcusAgain.user.id);
    const sceneOf = async (id: string) =>
      ((await em().findOneOrFail(Conversation, id)).settings as { scene?: Record<string, unknown> }).scene;
    expect(await sceneOf(spoken.conversation.id)).toEqual({ endedAt: '2026-11-01T11:00:00Z' });
    expect((await sceneOf(silent.conversation.id))?.summary).toBe('Marcus took the crown.');
  });
});
