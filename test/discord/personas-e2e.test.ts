import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { resolveActor } from '../../src/core/identity.js';
import { Message, Persona, PersonaChoice, User } from '../../src/db/entities/index.js';
import type { FakeDiscord } from '../discord-fake/index.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness;
let discord: FakeDiscord;
const em = () => harness.deps.database.orm.em.fork();
const chats = () => harness.llm.requests.filter((r) => r.path === '/v1/chat/completions');
/** The prompt's system parts (card, persona, lore: each is its own message, in SillyTavern's order), joined. */
const system = (index = -1) =>
  (chats().at(index)!.body.messages as { role: string; content: string }[])
    .filter((m) => m.role === 'system')
    .map((m) => String(m.content))
    .join('\n\n');
const lines = (index = -1) =>
  chats()
    .at(index)!
    .body.messages.map((m: { content: string }) => m.content) as string[];

function persona(
  subcommand: string,
  options: Record<string, string | boolean> = {},
  userId = harness.alice,
  channelId = harness.channel.id,
) {
  return discord.slashCommand({ name: 'persona', subcommand, options, userId, channelId });
}

async function createPersonaByForm(
  values: { name: string; description?: string; avatar?: string; tags?: string },
  userId = harness.alice,
  nsfw?: boolean,
) {
  const opened = persona('create', nsfw === undefined ? {} : { nsfw }, userId);
  await opened.waitForModal();
  return discord.submitModal({ from: opened, values: { description: '', avatar: '', tags: '', ...values } }).waitForReply();
}

/** A person says something to the bound character and the reply is written. */
async function sayAndWait(userId: string, text: string) {
  const before = chats().length;
  const said = discord.userSays(harness.channel.id, userId, text);
  await expect.poll(() => chats().length, { timeout: 15_000 }).toBeGreaterThan(before);
  await discord.waitFor(
    () => discord.webhookMessages(harness.channel.id).some((m) => m.fake.edits.length > 0 && BigInt(m.id) > BigInt(said.id)),
    15_000,
  );
  return said;
}

beforeAll(async () => {
  harness = await startBotHarness();
  discord = harness.discord;
  harness.llm.replyWith((request) => (request.path === '/v1/chat/completions' ? { text: 'Aria smiles.' } : undefined));
  const actor = await resolveActor(em(), { user: { id: harness.alice, username: 'alice' }, guild: { id: harness.guild.id } });
  await createCharacter(em(), actor, {
    name: 'Aria',
    personalityPrompt: 'A cheerful bard who greets {{user}} warmly.',
    greeting: 'Hello {{user}}!',
    visibility: 'guild',
  });
  await discord
    .slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria', answers: 'all' },
      userId: harness.alice,
      channelId: harness.channel.id,
    })
    .waitForReply();
  await discord.waitForMessage(harness.channel.id, (m) => Boolean(m.webhook_id));
});
afterAll(async () => {
  await harness?.close();
});

describe('/persona, through the fake Discord', () => {
  it('creates a persona from its form, with proxy tags written the Tupperbox way', async () => {
    const reply = await createPersonaByForm({
      name: 'Kestrel',
      description: '{{user}} is a wandering ranger with a hawk, wary of {{char}}.',
      avatar: 'https://cdn.example.org/kestrel.png',
      tags: 'K:text\n[text]',
    });
    expect(reply.content).toContain('**Kestrel** is ready');
    const stored = await em().findOneOrFail(Persona, { name: 'Kestrel' }, { populate: ['user'] });
    expect(stored.proxyTags).toEqual([{ prefix: 'K:' }, { prefix: '[', suffix: ']' }]);
    expect(stored.user.discordId).toBe(harness.alice);
  });

  it('refuses names Discord or the character rules refuse, and a second persona with the same name or tag', async () => {
    expect((await createPersonaByForm({ name: 'Discord Mod' })).content).toContain('cannot contain “discord” or “clyde”');
    expect((await createPersonaByForm({ name: 'kestrel' })).content).toContain('already have a persona called');
    expect((await createPersonaByForm({ name: 'Wren', tags: 'k:text' })).content).toContain(
      'Your persona “Kestrel” already uses the proxy tag k:text',
    );
    expect((await createPersonaByForm({ name: 'x'.repeat(81) }).catch((error: Error) => ({ content: error.message }))).content).toMatch(
      /longer than 80/,
    );
    expect(await em().count(Persona, {})).toBe(1);
  });

  it('offers the person’s own personas (and none) in autocomplete, never someone else’s', async () => {
    await createPersonaByForm({ name: 'Mira', description: '{{user}} is a healer from the coast.' }, harness.bob);
    const mine = await discord
      .autocomplete({
        name: 'persona',
        subcommand: 'use',
        focused: 'persona',
        options: { persona: '' },
        userId: harness.alice,
        channelId: harness.channel.id,
      })
      .waitForChoices();
    expect(mine.map((choice) => choice.name)).toEqual(['none (be plain you)', 'Kestrel']);
    const edit = await discord
      .autocomplete({
        name: 'persona',
        subcommand: 'edit',
        focused: 'persona',
        options: { persona: 'mi' },
        userId: harness.bob,
        channelId: harness.channel.id,
      })
      .waitForChoices();
    expect(edit.map((choice) => choice.name)).toEqual(['Mira']);
  });

  it('the persona worn is {{user}} in the prompt, names the person’s lines, and its description follows the scenario', async () => {
    expect((await persona('use', { persona: 'Kestrel' }).waitForReply()).content).toBe('You are **Kestrel** everywhere now.');
    await sayAndWait(harness.alice, 'Hello Aria, any news?');
    expect(system()).toContain('A cheerful bard who greets Kestrel warmly.');
    expect(system()).toContain('Kestrel is a wandering ranger with a hawk, wary of Aria.');
    // One person in the conversation: ST sends their lines as written (names only in group chats), never as Alice.
    expect(lines()).toEqual(expect.arrayContaining([expect.stringMatching(/^(Kestrel: )?Hello Aria, any news\?$/)]));
    expect(lines().join('\n')).not.toContain('Alice: Hello');
    // The stored message keeps its real author, with the persona as the speaker.
    const stored = await em().findOneOrFail(Message, { content: 'Hello Aria, any news?' }, { populate: ['author'] });
    expect(stored.author!.discordId).toBe(harness.alice);
    expect(stored.authorName).toBe('Kestrel');
    expect(stored.metadata).toMatchObject({ persona: { id: expect.any(String) } });
  });

  it('two people with personas: each is named in their lines and described once', async () => {
    await persona('use', { persona: 'Mira' }, harness.bob).waitForReply();
    await sayAndWait(harness.bob, 'I bring herbs.');
    await sayAndWait(harness.alice, 'And I bring the hawk.');
    const prompt = system();
    expect(prompt).toContain('Kestrel is a wandering ranger');
    expect(prompt).toContain('Other people here play these characters:\nMira: Mira is a healer from the coast.');
    expect(prompt.split('wandering ranger')).toHaveLength(2);
    expect(lines()).toEqual(expect.arrayContaining(['Mira: I bring herbs.', 'Kestrel: And I bring the hawk.']));
  });

  it('the most specific choice wins: a channel choice over everywhere, and none goes back to plain you', async () => {
    await createPersonaByForm({ name: 'Sable', description: '{{user}} is a thief.' });
    await persona('use', { persona: 'Sable', where: 'channel' }).waitForReply();
    await sayAndWait(harness.alice, 'Quietly now.');
    expect(lines()).toContain('Sable: Quietly now.');
    expect((await persona('show').waitForReply()).embeds?.[0]?.title).toBe('Sable');
    expect((await persona('use', { persona: 'none', where: 'channel' }).waitForReply()).content).toBe(
      `You are plain you in <#${harness.channel.id}> now.`,
    );
    await sayAndWait(harness.alice, 'Loudly now.');
    expect(lines()).toContain('Alice: Loudly now.');
    // {{user}} is Alice again; the personas of earlier lines are still described, as the other people's.
    expect(system()).toContain('A cheerful bard who greets Alice warmly.');
    expect(system()).not.toMatch(/^(Kestrel|Sable) is/m);
    expect(system()).toContain('Sable: Sable is a thief.');
  });

  it('an NSFW persona is not worn where NSFW characters may not run', async () => {
    await createPersonaByForm({ name: 'Velvet', description: '{{user}} is a courtesan.' }, harness.alice, true);
    await persona('use', { persona: 'Velvet', where: 'channel' }).waitForReply();
    await sayAndWait(harness.alice, 'Good evening.');
    expect(lines()).toContain('Alice: Good evening.');
    expect(system()).not.toContain('courtesan');
    await persona('use', { persona: 'none', where: 'channel' }).waitForReply();
  });

  it('edits in a form, lists, and deletes; a deleted persona’s places go back to plain you', async () => {
    const opened = persona('edit', { persona: 'Sable' });
    const modal = await opened.waitForModal();
    expect(JSON.stringify(modal)).toContain('is a thief');
    const saved = await discord
      .submitModal({ from: opened, values: { name: 'Sable', description: '{{user}} is a reformed thief.', avatar: '', tags: 'S:text' } })
      .waitForReply();
    expect(saved.content).toBe('Saved.');
    expect((await em().findOneOrFail(Persona, { name: 'Sable' })).proxyTags).toEqual([{ prefix: 'S:' }]);
    const list = await persona('list').waitForReply();
    expect(list.embeds?.[0]?.description).toMatch(/Kestrel[\s\S]*Sable[\s\S]*Velvet/);
    expect((await persona('delete', { persona: 'Kestrel' }).waitForReply()).content).toContain('**Kestrel** is deleted');
    await sayAndWait(harness.alice, 'Who am I now?');
    expect(lines()).toContain('Alice: Who am I now?');
    // What was said as Kestrel keeps its name.
    expect(lines()).toContain('Kestrel: And I bring the hawk.');
  });

  it('imports a SillyTavern persona backup and settings.json, a Tupperbox export and a PluralKit export', async () => {
    const importFile = async (name: string, data: unknown, userId = harness.bob) =>
      (
        await persona(
          'import',
          { file: { name, data: JSON.stringify(data), contentType: 'application/json' } } as never,
          userId,
        ).waitForReply()
      ).content;
    // The shape of SillyTavern's persona backup: public/scripts/personas.js, onBackupPersonas.
    const backup = {
      personas: { 'user-default.png': 'Wren', '1701.png': 'Thorn' },
      persona_descriptions: {
        'user-default.png': { description: '{{user}} is a scout.', position: 0 },
        '1701.png': { description: 'A knight.', position: 0 },
      },
      default_persona: 'user-default.png',
    };
    expect(await importFile('personas_20261203.json', backup)).toBe('Imported 2 persona(s) from SillyTavern: **Wren**, **Thorn**.');
    // settings.json keeps the same maps under power_user.
    const settings = {
      main_api: 'openai',
      power_user: { personas: { 'a.png': 'Ash', 'b.png': 'Mira' }, persona_descriptions: { 'a.png': { description: 'Ash is quiet.' } } },
    };
    expect(await importFile('settings.json', settings)).toMatch(
      /^Imported 1 persona\(s\) from SillyTavern: \*\*Ash\*\*\.\n❌ Mira: You already have a persona called “Mira”/,
    );
    // tb!export: tuppers with brackets as prefix/suffix pairs.
    const tupperbox = {
      tuppers: [
        {
          id: 1,
          name: 'Jay',
          avatar_url: 'https://cdn.example.org/jay.png',
          brackets: ['j:', '', '[j', 'j]'],
          description: 'A bird.',
          posts: 3,
        },
      ],
      groups: [],
    };
    expect(await importFile('tuppers.json', tupperbox)).toBe('Imported 1 persona(s) from Tupperbox: **Jay**.');
    // pk;export: members with proxy_tags; display_name is what PluralKit posts under.
    const pluralkit = {
      version: 2,
      id: 'abcde',
      members: [
        {
          id: 'fghij',
          name: 'rook',
          display_name: 'Rook',
          avatar_url: 'https://cdn.example.org/rook.png',
          description: 'A crow.',
          proxy_tags: [
            { prefix: 'r;', suffix: null },
            { prefix: null, suffix: '-r' },
          ],
        },
      ],
    };
    expect(await importFile('system.json', pluralkit)).toBe('Imported 1 persona(s) from PluralKit: **Rook**.');
    const bobs = await em().find(Persona, { user: { discordId: harness.bob } }, { orderBy: { name: 'asc' } });
    expect(bobs.map((p) => [p.name, p.description, p.avatarUrl, p.proxyTags])).toEqual([
      ['Ash', 'Ash is quiet.', null, []],
      ['Jay', 'A bird.', 'https://cdn.example.org/jay.png', [{ prefix: 'j:' }, { prefix: '[j', suffix: 'j]' }]],
      ['Mira', 'Mira is a healer from the coast.'.replace('Mira is', '{{user}} is'), null, []],
      ['Rook', 'A crow.', 'https://cdn.example.org/rook.png', [{ prefix: 'r;' }, { suffix: '-r' }]],
      ['Thorn', 'A knight.', null, []],
      ['Wren', '{{user}} is a scout.', null, []],
    ]);
    expect(await importFile('notes.json', { hello: 'world' })).toContain('I do not know this file');
  });

  it('/memory delete-my-data removes the person’s personas and where they wore them', async () => {
    const bobPersonas = await em().count(Persona, { user: { discordId: harness.bob } });
    expect(bobPersonas).toBeGreaterThan(0);
    expect(await em().count(PersonaChoice, { user: { discordId: harness.alice } })).toBeGreaterThan(0);
    const asked = await discord
      .slashCommand({ name: 'memory', subcommand: 'delete-my-data', userId: harness.alice, channelId: harness.channel.id })
      .waitForReply();
    const confirmId = JSON.stringify(asked.components).match(/"custom_id":"(memory:delete-me)"/)?.[1];
    await discord.pressButton(asked.id, confirmId!, harness.alice).waitForResponse();
    expect(await em().count(User, { discordId: harness.alice })).toBe(0);
    expect(await em().count(Persona, { user: { discordId: harness.alice } })).toBe(0);
    expect(await em().count(Persona, {})).toBe(bobPersonas);
    expect(await em().count(PersonaChoice, {})).toBe(1);
  });
});
