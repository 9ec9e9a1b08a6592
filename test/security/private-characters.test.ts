import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeServer } from '../fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import { startWorkers } from '../../src/workers.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

/**
 * A private character's data never reaches an endpoint its owner did not choose. Alice's private character answers
 * in a shared channel; Bob brings his own provider (scope "me") on another loopback server and talks to it: his
 * server must receive nothing (not the card, not the lore, not the conversation), while the operator's provider
 * answers. Bob's provider still answers for a character he may use himself, so the wrong one is reachable and used.
 */
const CARD = 'Marrow keeps the ledger of the Saltworks and never tells it to strangers.';
const LORE = 'The Saltworks ledger is hidden behind the third boiler.';
let h: BotHarness;
let bobServer: FakeServer;

const chatsOf = (server: FakeServer) => server.requests.filter((r) => r.path === '/v1/chat/completions');

async function run(userId: string, name: string, subcommand: string, options: Record<string, string> = {}, channelId = h.channel.id) {
  return String(
    (await h.discord.slashCommand({ name, subcommand, options, userId, channelId }).waitForResponse(undefined, 15_000)).data.content,
  );
}

async function createCharacter(userId: string, name: string, visibility: string, personality: string) {
  const create = h.discord.slashCommand({
    name: 'character',
    subcommand: 'create',
    options: { visibility },
    userId,
    channelId: h.channel.id,
  });
  await create.waitForModal(15_000);
  await h.discord.submitModal({ from: create, values: { name, personality, greeting: '', examples: '', avatar: '' } }).waitForReply(15_000);
}

/** Someone speaks in `channelId`; resolves once the bound character's reply with `answer` is finished. */
async function exchange(channelId: string, userId: string, text: string, answer: string, server: FakeServer) {
  server.next({ text: answer });
  h.discord.userSays(channelId, userId, text);
  return h.discord.waitForMessage(channelId, (m) => m.content.endsWith(answer) && (m.components?.length ?? 0) > 0, 20_000);
}

beforeAll(async () => {
  h = await startBotHarness();
  await startWorkers(h.deps);
  bobServer = await startFakeOpenAI();
  await createCharacter(h.alice, 'Marrow', 'private', CARD);
  expect(await run(h.alice, 'lore', 'add', { character: 'Marrow', keys: 'ledger', content: LORE, name: 'Ledger' })).toContain('Added');
  await createCharacter(h.alice, 'Pip', 'guild', 'Pip is a cheerful guide.');
  const add = h.discord.slashCommand({
    name: 'provider',
    subcommand: 'add',
    options: { type: 'openai-compatible' },
    userId: h.bob,
    channelId: h.channel.id,
  });
  await add.waitForModal(15_000);
  const added = await h.discord
    .submitModal({ from: add, values: { name: 'Bob server', endpoint: bobServer.url, key: 'sk-bob-000000000000', model: 'bob-model' } })
    .waitForReply(15_000);
  expect(added.content).toContain('Added **Bob server**');
}, 120_000);

afterAll(async () => {
  await h?.close();
  await bobServer?.close();
});

describe('whose provider answers for a private character', () => {
  it('never sends Alice’s private character to Bob’s own provider; the operator’s answers instead', async () => {
    expect(await run(h.alice, 'chat', 'start', { character: 'Marrow', answers: 'all' })).toContain('**Marrow** is here');
    await exchange(h.channel.id, h.alice, 'Marrow, good evening.', 'Evening, Alice.', h.llm);
    const operatorBefore = chatsOf(h.llm).length;
    await exchange(h.channel.id, h.bob, 'Hello Marrow! Where is the ledger?', 'That is not for you.', h.llm);
    expect(chatsOf(h.llm).length).toBe(operatorBefore + 1);
    // The operator's provider got the card and the lore, as it should; Bob's got nothing at all.
    expect(JSON.stringify(chatsOf(h.llm).at(-1)!.body)).toContain(LORE);
    expect(bobServer.requests).toEqual([]);
    // Regenerating by Bob's press goes the same way.
    const reply = h.discord.webhookMessages(h.channel.id).at(-1)!;
    const regenerateId = JSON.stringify(reply.components).match(/"custom_id":"(chat:regenerate:[^"]+)"/)![1]!;
    h.llm.next({ text: 'Still not for you.' });
    h.discord.pressButton(reply.id, regenerateId, h.bob);
    await h.discord.waitFor(() => h.discord.message(reply.id)!.content === 'Still not for you.', 20_000, 'the regenerated reply');
    expect(bobServer.requests).toEqual([]);
    // /chat status tells Bob which model answers him here: the operator's.
    const status = await h.discord
      .slashCommand({ name: 'chat', subcommand: 'status', userId: h.bob, channelId: h.channel.id })
      .waitForReply(15_000);
    expect(JSON.stringify(status.embeds)).not.toContain('bob-model');
  }, 60_000);

  it('still uses Bob’s provider for a character he may use himself', async () => {
    const lounge = h.discord.addTextChannel(h.guild.id, { name: 'lounge' });
    expect(await run(h.bob, 'chat', 'start', { character: 'Pip', answers: 'all' }, lounge.id)).toContain('**Pip** is here');
    await exchange(lounge.id, h.bob, 'Hi Pip!', 'Hi Bob!', bobServer);
    expect(chatsOf(bobServer).length).toBe(1);
    expect(JSON.stringify(chatsOf(bobServer)[0]!.body)).not.toContain(CARD);
    expect(JSON.stringify(chatsOf(bobServer)[0]!.body)).not.toContain(LORE);
  }, 60_000);

  it('says so in plain words when neither the server nor the operator has a provider', async () => {
    const em = h.deps.database.orm.em.fork();
    await em.getConnection().execute(`update llm_provider_instances set is_enabled = false where scope = 'system'`);
    try {
      const before = h.discord.webhookMessages(h.channel.id).length;
      h.discord.userSays(h.channel.id, h.bob, 'Marrow, are you there?');
      const notice = await h.discord.waitFor(
        () =>
          h.discord
            .webhookMessages(h.channel.id)
            .slice(before)
            .find((m) => m.content.includes('private character')),
        20_000,
        'the refusal',
      );
      expect(notice.content).toContain(
        "Marrow is someone's private character, so only this server's or the operator's AI provider may answer for it",
      );
      expect(bobServer.requests.filter((r) => JSON.stringify(r.body).includes('Marrow'))).toEqual([]);
    } finally {
      await em.getConnection().execute(`update llm_provider_instances set is_enabled = true where scope = 'system'`);
    }
  }, 60_000);
});
