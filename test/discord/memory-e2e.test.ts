import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Message, User, VectorMemory } from '../../src/db/entities/index.js';
import { startWorkers } from '../../src/workers.js';
import type { FakeDiscord, StoredChannel } from '../discord-fake/index.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness;
let discord: FakeDiscord;
let llm: FakeServer;
let channel: StoredChannel;
let alice: string;
let bob: string;

const em = () => harness.deps.database.orm.em.fork();
const memory = (subcommand: string, userId = alice, options: Record<string, string> = {}, group?: string) =>
  discord.slashCommand({ name: 'memory', group, subcommand, options, userId, channelId: channel.id });
const webhookMessages = () => discord.messages(channel.id).filter((m) => Boolean(m.webhook_id));

/** The stored reply shown as a Discord message (its id is kept once the last edit is done). */
async function storedReply(discordMessageId: string) {
  await expect.poll(() => em().count(Message, { discordMessageId }), { timeout: 15_000 }).toBe(1);
  return em().findOneOrFail(Message, { discordMessageId });
}

/** Alice says something; resolves with the character's reply once its buttons are on it. */
async function exchange(text: string, answer: string) {
  llm.next({ text: answer });
  const said = discord.userSays(channel.id, alice, text);
  const reply = await discord.waitForMessage(
    channel.id,
    (m) => Boolean(m.webhook_id) && m.content === answer && JSON.stringify(m.components).includes('chat:regenerate'),
    15_000,
  );
  const stored = await storedReply(reply.id);
  await expect.poll(() => em().count(VectorMemory, { message: stored.id }), { timeout: 15_000 }).toBe(1);
  return { said, reply, stored };
}

beforeAll(async () => {
  harness = await startBotHarness();
  ({ discord, llm, channel, alice, bob } = harness);
  await startWorkers(harness.deps);
  const create = discord.slashCommand({
    name: 'character',
    subcommand: 'create',
    options: { visibility: 'guild' },
    userId: alice,
    channelId: channel.id,
  });
  await create.waitForModal();
  await discord
    .submitModal({ from: create, values: { name: 'Aria', personality: 'A bard.', greeting: '', examples: '', avatar: '' } })
    .waitForReply();
  const lore = discord.slashCommand({
    name: 'lore',
    subcommand: 'add',
    options: { character: 'Aria', keys: 'harbour', content: 'The harbour of Veyra freezes every winter.', name: 'Harbour' },
    userId: alice,
    channelId: channel.id,
  });
  await lore.waitForReply();
  await discord
    .slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria', answers: 'all' },
      userId: alice,
      channelId: channel.id,
    })
    .waitForResponse();
});

afterAll(async () => {
  await harness?.close();
});

describe('memory through a fake Discord', () => {
  it('remembers exchanges and shows, on a 📚 Sources button, what went into a reply', async () => {
    await exchange('My sister is called Ione and she sails the northern sea.', 'What a lovely name.');
    const { reply } = await exchange('Will the harbour freeze? My sister Ione sails from there.', 'Every winter, I am afraid.');
    const prompt = llm.requests
      .at(-1)!
      .body.messages.map((m: { content: string }) => m.content)
      .join('\n');
    expect(prompt).toContain('The harbour of Veyra freezes every winter.');
    const sourcesButton = JSON.stringify(reply.components).match(/"custom_id":"(memory:sources:[^"]+)"/)?.[1];
    expect(sourcesButton).toBeDefined();
    expect(JSON.stringify(reply.components)).toMatch(/📚 Sources \(\d+\)/);
    const press = discord.pressButton(reply.id, sourcesButton!, bob);
    const shown = await press.waitForReply();
    expect(shown.flags! & 64).toBe(64);
    const description = String(shown.embeds[0]!.description);
    expect(description).toContain('🌍 Lore');
    expect(description).toContain('Harbour (keyword “harbour”)');
    expect(description).toContain('> The harbour of Veyra freezes every winter.');
  });

  it('shows the summary and lets the starter edit it in a form, but not someone else', async () => {
    const view = memory('summary');
    const shown = await view.waitForReply();
    expect(shown.embeds[0]!.description).toMatch(/No summary yet/);
    const editId = JSON.stringify(shown.components).match(/"custom_id":"(memory:edit-summary:[^"]+)"/)?.[1];
    expect(editId).toBeDefined();
    expect(JSON.stringify((await memory('summary', bob).waitForReply()).components ?? [])).not.toContain('edit-summary');
    const edit = discord.pressButton(shown.id, editId!, alice);
    await edit.waitForModal();
    const saved = await discord.submitModal({ from: edit, values: { text: 'Alice’s sister Ione sails the northern sea.' } }).waitForReply();
    expect(saved.content).toMatch(/^Saved/);
    expect((await memory('summary').waitForReply()).embeds[0]!.description).toBe('Alice’s sister Ione sails the northern sea.');
    llm.next({ text: 'Ione, of course.' });
    discord.userSays(channel.id, alice, 'Who sails the northern sea?');
    await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content === 'Ione, of course.', 15_000);
    // The summary goes right after the main prompt, in ST's Summarize template.
    expect(String(llm.requests.at(-1)!.body.messages[1].content)).toContain('[Summary: Alice’s sister Ione');
    // Cleared by hand: shown as empty (Discord refuses an empty embed), and no longer in the prompt.
    const clear = discord.pressButton(shown.id, editId!, alice);
    await clear.waitForModal();
    expect((await discord.submitModal({ from: clear, values: { text: '' } }).waitForReply()).content).toBe('The summary is now empty.');
    expect((await memory('summary').waitForReply()).embeds[0]!.description).toMatch(/^The summary is empty/);
  });

  it('forgets one message by its link, for real, and refuses someone else’s', async () => {
    const { said, stored } = await exchange('I am allergic to peanuts.', 'Noted, no peanuts.');
    const link = `https://discord.com/channels/${harness.guild.id}/${channel.id}/${said.id}`;
    expect((await memory('message', bob, { message: link }, 'forget').waitForReply()).content).toMatch(/Only the person who started/);
    const done = await memory('message', alice, { message: link }, 'forget').waitForReply();
    expect(done.content).toBe('Forgotten: 1 message and 1 memory.');
    expect(await em().count(Message, { discordMessageId: said.id })).toBe(0);
    expect(await em().count(VectorMemory, { message: stored.id })).toBe(0);
    const again = await memory('message', alice, { message: said.id }, 'forget').waitForReply();
    expect(again.content).toMatch(/not part of this conversation’s memory/);
  });

  it('exports the conversation as a JSON Lines file, privately', async () => {
    const exported = memory('export');
    await expect.poll(() => exported.responses.find((r) => r.files.length)?.files.length, { timeout: 15_000 }).toBe(1);
    expect(exported.ephemeral).toBe(true);
    const file = exported.responses.find((r) => r.files.length)!.files[0]!;
    const lines = file.data
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((line: string) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ role: 'user', content: 'My sister is called Ione and she sails the northern sea.' });
    expect(lines.some((line: { content: string }) => line.content === 'I am allergic to peanuts.')).toBe(false);
    expect(lines.some((line: { content: string }) => line.content === 'Noted, no peanuts.')).toBe(true);
  });

  it('pauses and resumes memory', async () => {
    expect((await memory('pause').waitForReply()).content).toMatch(/^Memory is paused here/);
    llm.next({ text: 'Off the record.' });
    discord.userSays(channel.id, alice, 'This stays between us.');
    const reply = await discord.waitForMessage(channel.id, (m) => Boolean(m.webhook_id) && m.content === 'Off the record.', 15_000);
    const stored = await storedReply(reply.id);
    await harness.deps.queue.close();
    expect(await em().count(VectorMemory, { message: stored.id })).toBe(0);
    expect((await memory('resume').waitForReply()).content).toBe('Memory is on again here.');
  });

  it('deletes everything of a person after a confirmation', async () => {
    const ask = memory('delete-my-data');
    const asked = await ask.waitForReply();
    expect(asked.content).toMatch(/cannot be undone/);
    const confirmId = JSON.stringify(asked.components).match(/"custom_id":"(memory:delete-me)"/)?.[1];
    const confirm = discord.pressButton(asked.id, confirmId!, alice);
    expect(String((await confirm.waitForResponse()).data?.content)).toMatch(/^Done: \d+ of your messages/);
    expect(await em().count(User, { discordId: alice })).toBe(0);
    expect(await em().count(Message, { authorName: 'Alice' })).toBe(0);
    expect(webhookMessages().length).toBeGreaterThan(0);
  });
});
