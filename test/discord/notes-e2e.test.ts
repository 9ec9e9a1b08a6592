import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Character, Message, PersonNote } from '../../src/db/entities/index.js';
import { startWorkers } from '../../src/workers.js';
import type { FakeDiscord, StoredChannel } from '../discord-fake/index.js';
import type { FakeServer, RecordedRequest } from '../fakes-llm/fake-server.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

/** /memory notes (the form), /memory pin, unpin and pins, and export, through the fake Discord and the real bot. */
let harness: BotHarness;
let discord: FakeDiscord;
let llm: FakeServer;
let channel: StoredChannel;
let alice: string;
let bob: string;
let characterId: string;
let notesAnswer = '[]';
let replies = 0;

const em = () => harness.deps.database.orm.em.fork();
const memory = (subcommand: string, userId = alice, options: Record<string, string> = {}) =>
  discord.slashCommand({ name: 'memory', subcommand, options, userId, channelId: channel.id });
const isNotesRequest = (request: RecordedRequest) => String(request.body?.messages?.[0]?.content ?? '').includes('notes about');
const lastChatPrompt = () =>
  (llm.requests.filter((r) => r.path.endsWith('/chat/completions') && !isNotesRequest(r)).at(-1)!.body.messages as { content: string }[])
    .map((m) => m.content)
    .join('\n');

async function exchange(text: string) {
  const answer = `Noted, friend (${replies + 1}).`;
  const said = discord.userSays(channel.id, alice, text);
  const reply = await discord.waitForMessage(
    channel.id,
    (m) => Boolean(m.webhook_id) && m.content === answer && JSON.stringify(m.components).includes('chat:regenerate'),
    15_000,
  );
  await expect.poll(() => em().count(Message, { discordMessageId: reply.id }), { timeout: 15_000 }).toBe(1);
  return { said, reply };
}

beforeAll(async () => {
  harness = await startBotHarness({ NOTES_DELAY_MS: '0' });
  ({ discord, llm, channel, alice, bob } = harness);
  // Each reply says something new, so a test waits for its own.
  llm.replyWith((request) => (isNotesRequest(request) ? { text: notesAnswer } : { text: `Noted, friend (${++replies}).` }));
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
  await discord
    .slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria', answers: 'all' },
      userId: alice,
      channelId: channel.id,
    })
    .waitForResponse();
  characterId = (await em().findOneOrFail(Character, { name: 'Aria' })).id;
});

afterAll(async () => {
  await harness?.close();
});

describe('notes and pins through a fake Discord', () => {
  it('takes notes from the talk, shows them only to the person, and lets them edit them in a form', async () => {
    notesAnswer = '[{"note": "Has a cat named Pepper.", "from": [1]}]';
    await exchange('My cat is called Pepper and she hates rain.');
    await expect.poll(() => em().count(PersonNote, {}), { timeout: 15_000 }).toBe(1);
    notesAnswer = '[]';

    // Autocomplete offers the character; the list is ephemeral and names what was noted.
    const choices = await discord
      .autocomplete({
        name: 'memory',
        subcommand: 'notes',
        focused: 'character',
        options: { character: 'ar' },
        userId: alice,
        channelId: channel.id,
      })
      .waitForChoices();
    expect(choices).toEqual([{ name: 'Aria', value: characterId }]);
    const shown = await memory('notes', alice, { character: characterId }).waitForReply();
    expect(shown.flags! & 64).toBe(64);
    expect(shown.embeds[0]!.description).toContain('Has a cat named Pepper.');
    // Bob has none, and never sees Alice's.
    const bobs = await memory('notes', bob).waitForReply();
    expect(bobs.embeds[0]!.description).toMatch(/no notes about you yet/);

    const editId = JSON.stringify(shown.components).match(/"custom_id":"(memory:edit-notes:[^"]+)"/)?.[1];
    const edit = discord.pressButton(shown.id, editId!, alice);
    await edit.waitForModal();
    const saved = await discord
      .submitModal({ from: edit, values: { notes: 'Has a cat named Pepper.\n- Prefers to be called Al.' } })
      .waitForReply();
    expect(saved.content).toBe('Saved: Aria keeps 2 notes about you.');
    const { reply } = await exchange('What should you call me?');
    expect(lastChatPrompt()).toContain('What Aria knows about Alice:\n- Prefers to be called Al.\n- Has a cat named Pepper.');
    // The reply's 📚 Sources lists the notes it had: their text for Alice, only that there were some for Bob.
    const sourcesId = JSON.stringify(reply.components).match(/"custom_id":"(memory:sources:[^"]+)"/)?.[1];
    const hers = String((await discord.pressButton(reply.id, sourcesId!, alice).waitForReply()).embeds[0]!.description);
    expect(hers).toContain('**📝 Note** · about you\n> Prefers to be called Al.');
    expect(hers).toContain('> Has a cat named Pepper.');
    const his = String((await discord.pressButton(reply.id, sourcesId!, bob).waitForReply()).embeds[0]!.description);
    expect(his).toContain('*a note about someone else*');
    expect(his).not.toContain('Pepper');

    // Too many lines: a plain refusal, nothing changed.
    const again = discord.pressButton(shown.id, editId!, alice);
    await again.waitForModal();
    const tooMany = Array.from({ length: 25 }, (_, i) => `Fact number ${i}.`).join('\n');
    const refused = await discord.submitModal({ from: again, values: { notes: tooMany } }).waitForReply();
    expect(refused.content).toMatch(/at most 20/);
    expect(await em().count(PersonNote, {})).toBe(2);
  });

  it('pins a message into every prompt, lists and unpins it, and forgetting the message unpins it', async () => {
    const { said } = await exchange('The password to the vault is "heron".');
    // Someone else may not pin Alice's message (only the starter or an admin may).
    expect((await memory('pin', bob, { message: said.id }).waitForReply()).content).toMatch(/Only the person who started/);
    expect((await memory('pin', alice, { message: said.id }).waitForReply()).content).toMatch(/^Pinned Alice/);
    expect((await memory('pin', alice, { message: 'not a link' }).waitForReply()).content).toMatch(/not a message link/);
    const listed = await memory('pins').waitForReply();
    expect(listed.embeds[0]!.description).toContain('The password to the vault');
    // In the recent window, the pinned message is not repeated in the pinned section.
    await exchange('And what else?');
    expect(lastChatPrompt().match(/The password to the vault/g)).toHaveLength(1);
    const stored = await em().findOneOrFail(Message, { discordMessageId: said.id });
    expect(stored.pinnedAt).toBeTruthy();

    const exported = await memory('export').waitForReply();
    expect(exported.content).toMatch(/messages and 2 notes about you/);

    expect((await memory('unpin', alice, { message: said.id }).waitForReply()).content).toBe('Unpinned.');
    expect((await memory('pin', alice, { message: said.id }).waitForReply()).content).toMatch(/^Pinned/);
    await discord
      .slashCommand({
        name: 'memory',
        group: 'forget',
        subcommand: 'message',
        options: { message: said.id },
        userId: alice,
        channelId: channel.id,
      })
      .waitForReply();
    expect((await memory('pins').waitForReply()).embeds[0]!.description).toMatch(/Nothing is pinned here/);
  });
});
