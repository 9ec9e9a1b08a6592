import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/identity.js';
import { Conversation, Message, StoryBranch, User } from '../../src/db/entities/index.js';
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
    expect((await bobCounters()).find((state) => state.name === 'userMessagesPerMinute')?.used).toBe(1);
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
    expect(
      (
        await connection().execute<{ n: number }[]>(`select count(*)::int as n from messages where metadata::text like ?`, [`%${bob.id}%`])
      )[0]!.n,
    ).toBeGreaterThan(0);

    const ask = h.discord.slashCommand({ name: 'memory', subcommand: 'delete-my-data', userId: h.bob, channelId: h.channel.id });
    const asked = await ask.waitForReply(15_000);
    const confirm = h.discord.pressButton(asked.id, 'memory:delete-me', h.bob);
    expect(String((await confirm.waitForResponse(undefined, 15_000)).data?.content)).toMatch(
      /^Done: 1 of your messages, 1 replies written to you/,
    );

    const tables = await connection().execute<{ table_name: string }[]>(
      `select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name <> 'mikro_orm_migrations'`,
    );
    expect(tables.length).toBeGreaterThan(5);
    for (const { table_name: table } of tables) {
      const rows = await connection().execute<{ row: string }[]>(`select t::text as row from "${table}" t where t::text like ?`, [
        `%${bob.id}%`,
      ]);
      expect(rows.map((r) => `${table}: ${r.row.slice(0, 3000)}`)).toEqual([]);
    }
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
});
