import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Character, CharacterKnowledge } from '../../src/db/entities/index.js';
import { loadLore } from '../../src/knowledge/lore.js';
import type { FakeDiscord, StoredChannel } from '../discord-fake/index.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness;
let discord: FakeDiscord;
let channel: StoredChannel;
let alice: string;
let bob: string;
let characterId: string;

const em = () => harness.deps.database.orm.em.fork();
const lore = (options: Record<string, string | number | boolean>, subcommand: string, userId = alice) =>
  discord.slashCommand({ name: 'lore', subcommand, options: { character: 'Mira', ...options }, userId, channelId: channel.id });
/** The text fields of a modal the bot showed, by custom id. */
const fields = (modal: unknown) =>
  Object.fromEntries(
    (modal as { components: { components: { custom_id: string; value?: string }[] }[] }).components.map((row) => [
      row.components[0]!.custom_id,
      row.components[0]!.value ?? '',
    ]),
  );

beforeAll(async () => {
  harness = await startBotHarness();
  ({ discord, channel, alice, bob } = harness);
  const create = discord.slashCommand({
    name: 'character',
    subcommand: 'create',
    options: { visibility: 'guild' },
    userId: alice,
    channelId: channel.id,
  });
  await create.waitForModal();
  const made = discord.submitModal({
    from: create,
    values: { name: 'Mira', personality: 'A ship’s navigator.', greeting: '', examples: '', avatar: '' },
  });
  expect((await made.waitForReply()).content).toContain('**Mira** is ready');
  characterId = (await em().findOneOrFail(Character, { name: 'Mira' })).id;
});

afterAll(async () => {
  await harness?.close();
});

describe('/lore through a fake Discord', () => {
  it('adds an entry and lists it, privately', async () => {
    const add = lore(
      { keys: 'harbour, /ships?/i', content: 'The harbour of Veyra freezes in winter.', name: 'Harbour', priority: 5 },
      'add',
    );
    const reply = await add.waitForReply();
    expect(reply.content).toContain('Added the lore entry **Harbour** of **Mira** (keys: harbour, /ships?/i).');
    expect(reply.flags! & 64).toBe(64);
    const [item] = await loadLore(em(), characterId);
    expect(item).toMatchObject({
      name: 'Harbour',
      entry: { keys: ['harbour', '/ships?/i'], priority: 5, content: 'The harbour of Veyra freezes in winter.' },
    });

    const list = await lore({}, 'list').waitForReply();
    const embed = list.embeds[0]!;
    expect(embed.title).toBe('Lorebook of Mira');
    expect(embed.description).toContain('**1. Harbour** · priority 5');
    expect(embed.description).toContain('keys: `harbour`, `/ships?/i`');
    expect(embed.description).toMatch(/^(⏳|⚙️|✅)/);
    expect(list.flags! & 64).toBe(64);
  });

  it('says in plain words what is wrong with an entry, and who may change it', async () => {
    const bad = await lore({ keys: 'ok, /(broken/', content: 'Anything.' }, 'add').waitForReply();
    expect(bad.content).toMatch(/The keyword “\/\(broken\/” is not a usable regular expression: Unterminated group/);
    expect(bad.flags! & 64).toBe(64);
    const other = await lore({ keys: 'bell', content: 'Not Bob’s to add.' }, 'add', bob).waitForReply();
    expect(other.content).toContain('Only the creator of Mira');
    expect(await loadLore(em(), characterId)).toHaveLength(1);
  });

  it('autocompletes entries by name or keyword', async () => {
    const [item] = await loadLore(em(), characterId);
    const byKey = discord.autocomplete({
      name: 'lore',
      subcommand: 'edit',
      focused: 'entry',
      options: { character: characterId, entry: 'SHIP' },
      userId: alice,
      channelId: channel.id,
    });
    expect(await byKey.waitForChoices()).toEqual([{ name: 'Harbour — harbour, /ships?/i', value: item!.id }]);
    const none = discord.autocomplete({
      name: 'lore',
      subcommand: 'edit',
      focused: 'entry',
      options: { character: characterId, entry: 'dragon' },
      userId: alice,
      channelId: channel.id,
    });
    expect(await none.waitForChoices()).toEqual([]);
  });

  it('edits an entry in a form filled with its keywords and content', async () => {
    const [item] = await loadLore(em(), characterId);
    const edit = lore({ entry: item!.id, case_sensitive: true }, 'edit');
    const modal = await edit.waitForModal();
    expect(modal.custom_id).toBe(`lore:save:${characterId}:${item!.id}`);
    expect(fields(modal)).toEqual({
      name: 'Harbour',
      keys: 'harbour\n/ships?/i',
      secondary: '',
      content: 'The harbour of Veyra freezes in winter.',
      content2: '',
    });
    // The flag given with the command is saved at once.
    expect((await loadLore(em(), characterId))[0]!.entry.caseSensitive).toBe(true);

    const submit = discord.submitModal({
      from: edit,
      values: {
        name: 'Port',
        keys: 'harbour\nport, quay\n/docks?/',
        secondary: 'winter',
        content: 'The port of Veyra freezes',
        content2: 'every winter since the war.',
      },
    });
    expect((await submit.waitForReply()).content).toContain(
      'Saved the lore entry **Port** of **Mira** (keys: harbour, port, quay, /docks?/).',
    );
    const [saved] = await loadLore(em(), characterId);
    expect(saved).toMatchObject({
      name: 'Port',
      entry: {
        keys: ['harbour', 'port, quay', '/docks?/'],
        secondaryKeys: ['winter'],
        selective: true,
        caseSensitive: true,
        content: 'The port of Veyra freezes\nevery winter since the war.',
      },
    });
    const row = await em().findOneOrFail(CharacterKnowledge, item!.id);
    expect(row.name).toBe('Port');
    expect(row.status).toBe('pending');
  });

  it('pages a long list and removes an entry', async () => {
    for (let i = 1; i <= 11; i++) {
      await lore({ keys: `key${i}`, content: `Entry number ${i}.`, name: `Entry ${String(i).padStart(2, '0')}` }, 'add').waitForReply();
    }
    const list = await lore({}, 'list').waitForReply();
    expect(list.embeds[0]!.footer?.text).toContain('Page 1 of 2 · 12 entries');
    expect(list.embeds[0]!.description).not.toContain('Entry 10');
    const next = discord.pressButton(list.id, `lore:page:${characterId}:1`, alice);
    await expect.poll(() => discord.message(list.id)?.embeds[0]?.footer?.text, { timeout: 10_000 }).toContain('Page 2 of 2');
    expect(discord.message(list.id)!.embeds[0]!.description).toContain('**11. Entry 10**');
    expect((await next.waitForResponse()).type).toBe(7);

    const removed = await lore({ entry: 'Port' }, 'remove').waitForReply();
    expect(removed.content).toBe('**Mira** no longer has the lore entry **Port**.');
    expect((await loadLore(em(), characterId)).map((entry) => entry.name)).not.toContain('Port');
    const missing = await lore({ entry: 'Port' }, 'remove').waitForReply();
    expect(missing.content).toContain('Mira has no lore entry “Port”');
  });

  it('imports a SillyTavern world-info file and exports the lorebook back as one', async () => {
    const { worldInfo } = await import('../cards/corpus.js');
    const file = { name: 'places.json', data: Buffer.from(JSON.stringify(worldInfo(3))), contentType: 'application/json' };
    const imported = discord.slashCommand({
      name: 'lore',
      subcommand: 'import',
      options: { character: 'Mira', file },
      userId: alice,
      channelId: channel.id,
    });
    await expect
      .poll(() => imported.responses.find((r) => r.kind === 'edit-original')?.data.content, { timeout: 15_000 })
      .toBe('Added 3 lore entries to **Mira** (1 of them switched off, as in the file). See /lore list.');
    const before = (await loadLore(em(), characterId)).length;
    const exported = lore({}, 'export');
    const reply = await exported.waitForReply();
    expect(reply.flags! & 64).toBe(64);
    const sent = exported.responses.find((r) => r.files.length)!.files[0]!;
    expect(sent.filename).toBe('Mira-lore.json');
    const world = JSON.parse(Buffer.from(sent.data).toString('utf8')) as { entries: Record<string, { key: string[]; disable: boolean }> };
    expect(Object.keys(world.entries)).toHaveLength(before);
    expect(
      Object.values(world.entries)
        .slice(-3)
        .map((entry) => [entry.key, entry.disable]),
    ).toEqual([
      [['place0'], false],
      [['place1'], false],
      [['place2'], true],
    ]);
  });
});
