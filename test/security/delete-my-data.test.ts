import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/identity.js';
import {
  CharacterKnowledge,
  Conversation,
  ImportDocument,
  LlmProviderInstance,
  Message,
  Persona,
  PersonaChoice,
  PersonNote,
  StoryBranch,
  User,
  VectorMemory,
} from '../../src/db/entities/index.js';
import { startWorkers } from '../../src/workers.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';
import { waitFor } from '../support/wait-for.js';

/**
 * /memory delete-my-data leaves nothing that names the person: after Bob deletes his data, his internal id is in no
 * row of any table (replies' spending and sources metadata, alternatives' sources, a summary he edited), the replies
 * written to answer him (which retell what he said) are gone with their alternatives, a running summary that covers
 * his messages is gone, and so are his usage counters (Redis or in-process), while Alice's messages, the replies to
 * her and the conversation stay. Deleting a Discord message drops the summary that covers it (issue 16, item 6).
 */
let h: BotHarness;
const em = () => h.deps.database.orm.em.fork();
const connection = () => em().getConnection();

async function exchange(userId: string, text: string, answer: string) {
  h.llm.next({ text: answer });
  h.discord.userSays(h.channel.id, userId, text);
  const shown = await h.discord.waitForMessage(h.channel.id, (m) => m.content === answer && (m.components?.length ?? 0) > 0, 20_000);
  return waitFor(
    () =>
      em()
        .findOne(Message, { discordMessageId: shown.id })
        .then((m) => m ?? undefined),
    'the stored reply',
  );
}

/**
 * Every column of every table (read from information_schema, so a table or column added later is covered too) whose
 * text holds one of `ids`, as "table.column: value".
 */
async function tracesOf(ids: string[]): Promise<string[]> {
  const columns = await connection().execute<{ table_name: string; column_name: string }[]>(
    `select c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = current_schema() and t.table_type = 'BASE TABLE' and c.table_name <> 'mikro_orm_migrations'
        and c.data_type not in ('bytea', 'tsvector') and c.udt_name <> 'vector'`,
  );
  expect(columns.length).toBeGreaterThan(50);
  const found: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    for (const id of ids) {
      const rows = await connection().execute<{ value: string }[]>(
        `select "${column}"::text as value from "${table}" where strpos("${column}"::text, ?) > 0`,
        [id],
      );
      found.push(...rows.map((row) => `${table}.${column}: ${row.value.slice(0, 500)}`));
    }
  }
  return found;
}

beforeAll(async () => {
  h = await startBotHarness();
  await startWorkers(h.deps);
  const create = h.discord.slashCommand({
    name: 'character',
    subcommand: 'create',
    options: { visibility: 'guild' },
    userId: h.alice,
    channelId: h.channel.id,
  });
  await create.waitForModal(15_000);
  await h.discord
    .submitModal({ from: create, values: { name: 'Keeper', personality: 'Keeps an inn.', greeting: '', examples: '', avatar: '' } })
    .waitForReply(15_000);
  await h.discord
    .slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Keeper', answers: 'all' },
      userId: h.alice,
      channelId: h.channel.id,
    })
    .waitForResponse(undefined, 15_000);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('/memory delete-my-data', () => {
  it('leaves no trace of the person in any table, and drops summaries covering their messages', async () => {
    await exchange(h.alice, 'Evening, Keeper.', 'Evening, Alice.');
    const bobReply = await exchange(h.bob, 'My name is Bob and I owe the guild 40 crowns.', 'Noted, Bob: 40 crowns to the guild.');
    const aliceReply = await exchange(h.alice, 'Anything new?', 'Quiet night.');
    const bobCounters = () => h.deps.usage.state({ user: { discordId: h.bob } } as Actor);
    // Bob's counters hold his use. The day's tokens, not the minute's messages: windows start on the minute, so on a
    // slow machine the minute of his message can be over by now (the day's can too, at midnight UTC only).
    expect((await bobCounters()).find((state) => state.name === 'userTokensPerDay')?.used).toBeGreaterThan(0);
    const bob = await em().findOneOrFail(User, { discordId: h.bob });
    const conversation = await em().findOneOrFail(Conversation, { discordChannelId: h.channel.id });
    // What the summarizer and recall leave behind: a summary covering Bob's message (last edited by him), and a reply
    // to Alice and its alternative that used one of his memories from another conversation.
    await connection().execute(
      `update conversations set settings = coalesce(settings, '{}'::jsonb) || jsonb_build_object('summary', jsonb_build_object('text', 'Bob owes the guild 40 crowns.', 'upToAt', now()::text, 'editedBy', ?::text)) where id = ?`,
      [bob.id, conversation.id],
    );
    const source = JSON.stringify([
      { kind: 'other', id: '00000000-0000-4000-8000-000000000001', userId: bob.id },
      { kind: 'lore', id: '00000000-0000-4000-8000-000000000002' },
    ]);
    await connection().execute(`update messages set metadata = metadata || jsonb_build_object('sources', ?::jsonb) where id = ?`, [
      source,
      aliceReply.id,
    ]);
    await connection().execute(
      `update story_branches set generation_params = generation_params || jsonb_build_object('sources', ?::jsonb) where message_id = ?`,
      [source, aliceReply.id],
    );
    expect(await em().count(StoryBranch, { message: bobReply.id })).toBeGreaterThan(0);
    // More of him, in tables the conversation does not reach: a persona he wears here, notes about him and one about
    // Alice taken from his message, a file he gave Alice's character, his own provider key and an import, a DM.
    const bobSaid = await em().findOneOrFail(Message, { author: bob.id });
    const work = em();
    const persona = work.create(Persona, { user: bob.id, name: 'Zed', proxyTags: [] });
    work.create(PersonaChoice, { user: bob.id, scope: 'channel', placeId: h.channel.id, persona });
    const character = conversation.character!.id;
    work.create(PersonNote, {
      user: bob.id,
      character,
      conversation: conversation.id,
      content: 'Owes the guild 40 crowns.',
      messageIds: [bobSaid.id],
    });
    const alice = await em().findOneOrFail(User, { discordId: h.alice });
    work.create(PersonNote, {
      user: alice.id,
      character,
      conversation: conversation.id,
      content: 'Her friend owes money.',
      messageIds: [bobSaid.id],
    });
    work.create(CharacterKnowledge, { character, uploadedBy: bob.id, name: 'ledger.txt', sourceType: 'manual', sourceName: 'ledger.txt' });
    work.create(LlmProviderInstance, { providerType: 'openai', displayName: 'Bob’s key', scope: 'user', user: bob.id, config: {} });
    work.create(ImportDocument, { user: bob.id, sourceType: 'manual', sourceName: 'notes.txt' });
    work.create(Conversation, { discordChannelId: '990000000000000001', kind: 'dm', user: bob.id, character, settings: {} });
    await work.flush();
    // The scan finds him where he is: his user row, his messages, replies' metadata.
    const before = await tracesOf([bob.id, h.bob]);
    for (const column of [
      'users.discord_id',
      'users.id',
      'messages.author_id',
      'messages.metadata',
      'personas.user_id',
      'persona_choices.user_id',
      'person_notes.user_id',
      'character_knowledge.uploaded_by_id',
      'llm_provider_instances.user_id',
      'import_documents.user_id',
      'conversations.user_id',
    ]) {
      expect(before.some((trace) => trace.startsWith(`${column}:`))).toBe(true);
    }

    const ask = h.discord.slashCommand({ name: 'memory', subcommand: 'delete-my-data', userId: h.bob, channelId: h.channel.id });
    const asked = await ask.waitForReply(15_000);
    const confirm = h.discord.pressButton(asked.id, 'memory:delete-me', h.bob);
    expect(String((await confirm.waitForResponse(undefined, 15_000)).data?.content)).toMatch(
      /^Done: 1 of your messages, 1 replies written to you/,
    );

    expect(await tracesOf([bob.id, h.bob])).toEqual([]);
    const after = await em().findOneOrFail(Conversation, conversation.id);
    expect((after.settings as { summary?: unknown }).summary).toBeUndefined();
    // The reply that answered Bob retold his words: it is gone with its alternatives. Alice's side stays, and the lore
    // source of the reply to her is kept.
    expect(await em().count(Message, { id: bobReply.id })).toBe(0);
    expect(await em().count(StoryBranch, { message: bobReply.id })).toBe(0);
    const left = await em().find(Message, { conversation: conversation.id }, { orderBy: { createdAt: 'asc' } });
    expect(left.map((m) => m.content)).toEqual(['Evening, Keeper.', 'Evening, Alice.', 'Anything new?', 'Quiet night.']);
    expect(after.messageCount).toBe(4);
    const reply = await em().findOneOrFail(Message, aliceReply.id);
    expect((reply.metadata as { sources: { kind: string }[] }).sources.map((s) => s.kind)).toEqual(['lore']);
    // A note about Alice taken from his words goes; the file he gave her character stays hers, without his name.
    expect(await em().count(PersonNote, { user: alice.id })).toBe(0);
    expect(await em().count(CharacterKnowledge, { name: 'ledger.txt', uploadedBy: null })).toBe(1);
    // Nothing keyed by his Discord id is left in the usage counters.
    expect((await bobCounters()).map((state) => state.used)).toEqual([0, 0]);
  }, 90_000);

  it('drops the summary covering a Discord message its author deletes', async () => {
    const conversation = await em().findOneOrFail(Conversation, { discordChannelId: h.channel.id });
    await exchange(h.alice, 'My locker code is 4412, keep it safe.', 'Safe with me.');
    const said = await waitFor(
      () =>
        em()
          .findOne(Message, { conversation: conversation.id, content: 'My locker code is 4412, keep it safe.' })
          .then((m) => m ?? undefined),
      'the stored message',
    );
    await connection().execute(
      `update conversations set settings = coalesce(settings, '{}'::jsonb) || jsonb_build_object('summary', jsonb_build_object('text', 'Alice''s locker code is 4412.', 'upToAt', now()::text, 'updatedAt', now()::text)) where id = ?`,
      [conversation.id],
    );
    h.discord.userDeletes(said.discordMessageId!);
    await waitFor(
      async () =>
        !(await em().count(Message, { id: said.id })) && !(await em().findOneOrFail(Conversation, conversation.id)).settings.summary,
      'the message and the summary covering it to be gone',
    );
  }, 90_000);

  it('blanks out his words where replies to others, their alternatives, notes and a hand-written summary repeat them', async () => {
    const conversation = await em().findOneOrFail(Conversation, { discordChannelId: h.channel.id });
    await exchange(h.bob, 'The spare key of the cellar is under the blue flowerpot.', 'I will keep that in mind.');
    const quoting = 'Bob says the Spare Key of the cellar is under the blue flowerpot, so look there.';
    const aliceReply = await exchange(h.alice, 'Where can I find the cellar key?', quoting);
    const memoryOfReply = () =>
      em()
        .findOne(VectorMemory, { message: aliceReply.id })
        .then((memory) => memory ?? undefined);
    expect((await waitFor(memoryOfReply, 'the memory of the reply to Alice')).content).toContain('blue flowerpot');
    const alice = await em().findOneOrFail(User, { discordId: h.alice });
    const bob = await em().findOneOrFail(User, { discordId: h.bob });
    await connection().execute(
      `update conversations set settings = settings || jsonb_build_object('summary', jsonb_build_object('text', ?::text, 'updatedAt', now()::text)) where id = ?`,
      ['Alice learnt that the spare key of the cellar is under the blue flowerpot.', conversation.id],
    );
    const work = em();
    const note = work.create(PersonNote, {
      user: alice.id,
      character: conversation.character!.id,
      conversation: conversation.id,
      content: 'Knows that the spare key of the cellar is under the blue flowerpot.',
      messageIds: [],
    });
    await work.flush();

    const ask = h.discord.slashCommand({ name: 'memory', subcommand: 'delete-my-data', userId: h.bob, channelId: h.channel.id });
    const confirm = h.discord.pressButton((await ask.waitForReply(15_000)).id, 'memory:delete-me', h.bob);
    expect(String((await confirm.waitForResponse(undefined, 15_000)).data?.content)).toMatch(/^Done: 1 of your messages/);

    // The reply to Alice stays, without his words; so do its alternatives, the note about her and the summary.
    expect((await em().findOneOrFail(Message, aliceReply.id)).content).toBe('Bob says [removed], so look there.');
    const branches = await em().find(StoryBranch, { message: aliceReply.id });
    expect(branches.map((branch) => branch.content)).toEqual(['Bob says [removed], so look there.']);
    expect((await em().findOneOrFail(PersonNote, note.id)).content).toBe('Knows that [removed].');
    const after = await em().findOneOrFail(Conversation, conversation.id);
    expect((after.settings as { summary?: { text: string } }).summary?.text).toBe('Alice learnt that [removed].');
    // Alice's memory of that exchange was made from his words: it is made again from the reply as it is now.
    const remade = await waitFor(
      async () => (await memoryOfReply())?.content.includes('[removed]') && (await memoryOfReply()),
      'the memory made again',
    );
    expect(remade.content).toContain('Where can I find the cellar key?');
    // Nowhere in the database: neither his words nor his ids.
    expect(await tracesOf(['blue flowerpot', 'under the blue', bob.id, h.bob])).toEqual([]);
  }, 90_000);
});
