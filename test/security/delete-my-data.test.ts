import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation, Message, User } from '../../src/db/entities/index.js';
import { startWorkers } from '../../src/workers.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';
import { waitFor } from '../support/wait-for.js';

/**
 * /memory delete-my-data leaves nothing that names the person: after Bob deletes his data, his internal id is in no
 * row of any table (replies' spending and sources metadata, alternatives' sources, a summary he edited), and a
 * running summary that covers his messages is gone, while Alice's messages and the conversation stay.
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
    const bobReply = await exchange(h.bob, 'My name is Bob and I owe the guild 40 crowns.', 'Noted, Bob.');
    await exchange(h.alice, 'Anything new?', 'Quiet night.');
    const bob = await em().findOneOrFail(User, { discordId: h.bob });
    const conversation = await em().findOneOrFail(Conversation, { discordChannelId: h.channel.id });
    // What the summarizer and recall leave behind: a summary covering Bob's message (last edited by him), and a reply
    // and its alternative that used one of his memories from another conversation.
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
      bobReply.id,
    ]);
    await connection().execute(
      `update story_branches set generation_params = generation_params || jsonb_build_object('sources', ?::jsonb) where message_id = ?`,
      [source, bobReply.id],
    );
    expect(
      (
        await connection().execute<{ n: number }[]>(`select count(*)::int as n from messages where metadata::text like ?`, [`%${bob.id}%`])
      )[0]!.n,
    ).toBeGreaterThan(0);

    const ask = h.discord.slashCommand({ name: 'memory', subcommand: 'delete-my-data', userId: h.bob, channelId: h.channel.id });
    const asked = await ask.waitForReply(15_000);
    const confirm = h.discord.pressButton(asked.id, 'memory:delete-me', h.bob);
    expect(String((await confirm.waitForResponse(undefined, 15_000)).data?.content)).toMatch(/^Done: 1 of your messages/);

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
    // Alice's side of the conversation stays, and the lore source of the reply is kept.
    expect(await em().count(Message, { conversation: conversation.id, authorName: 'Alice' })).toBe(2);
    const reply = await em().findOneOrFail(Message, bobReply.id);
    expect((reply.metadata as { sources: { kind: string }[] }).sources.map((s) => s.kind)).toEqual(['lore']);
  }, 90_000);
});
