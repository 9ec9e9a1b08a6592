import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Character } from '../../src/db/entities/index.js';
import type { FakeDiscord, StoredChannel } from '../discord-fake/index.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness;
let discord: FakeDiscord;
let channel: StoredChannel;
let alice: string;
const em = () => harness.deps.database.orm.em.fork();
type Row = { components: { custom_id: string; value?: string; placeholder?: string; required?: boolean }[] };
const inputs = (modal: unknown) =>
  Object.fromEntries((modal as { components: Row[] }).components.map((row) => [row.components[0]!.custom_id, row.components[0]!]));

beforeAll(async () => {
  harness = await startBotHarness();
  ({ discord, channel, alice } = harness);
});
afterAll(async () => {
  await harness?.close();
});

describe('the character form', () => {
  it('never cuts a field too long for it: shows it as such and keeps it unless typed over', async () => {
    const create = discord.slashCommand({ name: 'character', subcommand: 'create', options: {}, userId: alice, channelId: channel.id });
    await create.waitForModal();
    await discord
      .submitModal({ from: create, values: { name: 'Longform', personality: 'Short for now.', greeting: '', examples: '', avatar: '' } })
      .waitForReply();
    const long = 'A very long description. '.repeat(300);
    await em().nativeUpdate(Character, { name: 'Longform' }, { personalityPrompt: long });

    const edit = discord.slashCommand({
      name: 'character',
      subcommand: 'edit',
      options: { character: 'Longform' },
      userId: alice,
      channelId: channel.id,
    });
    const modal = await edit.waitForModal();
    const personality = inputs(modal).personality!;
    expect(personality.value ?? '').toBe('');
    expect(personality.required).toBe(false);
    expect(personality.placeholder).toBe(`${long.length} characters, too long for this form: kept as it is unless you type here.`);

    const saved = await discord
      .submitModal({ from: edit, values: { name: 'Longform', personality: '', greeting: 'Hello there.', examples: '', avatar: '' } })
      .waitForReply();
    expect(saved.content).toBe('Saved.');
    const after = await em().findOneOrFail(Character, { name: 'Longform' });
    expect(after.personalityPrompt).toBe(long);
    expect(after.greeting).toBe('Hello there.');

    const replace = discord.slashCommand({
      name: 'character',
      subcommand: 'edit',
      options: { character: 'Longform' },
      userId: alice,
      channelId: channel.id,
    });
    await replace.waitForModal();
    await discord
      .submitModal({
        from: replace,
        values: { name: 'Longform', personality: 'Typed over.', greeting: 'Hello there.', examples: '', avatar: '' },
      })
      .waitForReply();
    expect((await em().findOneOrFail(Character, { name: 'Longform' })).personalityPrompt).toBe('Typed over.');
  });
});
