import { ApplicationCommandOptionType as T, ComponentType, InteractionType } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Character, Conversation, Message, StoryBranch } from '../../src/db/entities/index.js';
import { loadCommands } from '../../src/discord/load-commands.js';
import type { FakeContext } from '../discord-fake/context.js';
import type { FakeInteraction, OptionValue } from '../discord-fake/index.js';
import { baseInteraction } from '../discord-fake/interaction-payloads.js';
import { FakeInteraction as FakeInteractionClass } from '../discord-fake/interactions.js';
import { messagePayload, type Json } from '../discord-fake/payloads.js';
import { startWorkers } from '../../src/workers.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';
import { cardFile, knowledgeFile, messageContent, nastyString, Rng, unicode } from './random-input.js';
import { checkAnswer, describeCase, type Finding } from './check-answer.js';

/**
 * Random and malformed input through the whole bot: slash commands with options of the right and of wrong shapes,
 * autocomplete, modals and buttons with garbage or other people's ids, the message context command, card files,
 * knowledge attachments and awful messages. FUZZ_SEED=<n> reproduces a run (or `random`), FUZZ_CASES sets how many cases.
 */
/**
 * CI runs fixed seeds, so a landing never depends on luck; FUZZ_SEED=random explores new ones (each run prints its
 * seed; every seed that found a bug so far is below, and passes).
 */
const SEEDS = [288788765, 752316956, 1765816642, 2002824816];
const seed =
  process.env.FUZZ_SEED === 'random'
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.FUZZ_SEED ?? SEEDS[new Date().getUTCDate() % SEEDS.length]);
const CASES = Number(process.env.FUZZ_CASES ?? 200);
const rng = new Rng(seed);

let h: BotHarness;
let ctx: FakeContext;
const crashes: string[] = [];
const onRejection = (reason: unknown) => crashes.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`);
const onException = (error: unknown) => crashes.push(`uncaughtException: ${String((error as Error)?.stack ?? error)}`);
const ids = {
  aria: '',
  hidden: '',
  conversation: '',
  reply: '',
  replyDiscord: '',
  bobProvider: '',
  mallory: '',
  foreignReply: '',
  foreignDiscord: '',
  foreignConversation: '',
  foreignContent: '',
};
const findings: Finding[] = [];
const counts: Record<string, number> = {};
const timings: Record<string, number> = {};

beforeAll(async () => {
  console.log(`fuzz seed ${seed}, ${CASES} cases (FUZZ_SEED=${seed} reproduces this run)`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  h = await startBotHarness();
  // The ingest, memorize and summarize queues are consumed in this process, as `npm start` does.
  await startWorkers(h.deps);
  ctx = (h.discord as unknown as { ctx: FakeContext }).ctx;
  ids.mallory = h.discord.addUser({ username: 'mallory' }).id;
  h.discord.addMember(h.guild.id, ids.mallory);
  // The character echoes what it was told, so awful messages come back as awful replies to split and post.
  h.llm.replyWith((request) => {
    const last = (request.body?.messages as { content?: string }[] | undefined)?.at(-1)?.content ?? '';
    return { text: `Echo: ${String(last).slice(0, 4500)}` };
  });
  ids.aria = await createCharacter(h.alice, 'Aria', 'guild');
  ids.hidden = await createCharacter(h.bob, 'Hidden', 'private');
  await h.discord
    .slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria', answers: 'all' },
      userId: h.alice,
      channelId: h.channel.id,
    })
    .waitForResponse();
  const greeting = await h.discord.waitForMessage(h.channel.id, (m) => Boolean(m.webhook_id) && m.content.startsWith('Hello'), 15_000);
  const em = h.deps.database.orm.em.fork();
  const stored = await waitForStored(greeting.id);
  ids.reply = stored.id;
  ids.replyDiscord = greeting.id;
  ids.conversation = (await em.findOneOrFail(Conversation, { discordChannelId: h.channel.id })).id;
  const provider = h.discord.slashCommand({
    name: 'provider',
    subcommand: 'add',
    options: { type: 'openai-compatible' },
    userId: h.bob,
    channelId: h.channel.id,
  });
  await provider.waitForModal();
  await h.discord
    .submitModal({ from: provider, values: { name: 'Bob key', endpoint: h.llm.url, key: 'sk-bob-0123456789', model: '' } })
    .waitForResponse();
  const [row] = await em.getConnection().execute<{ id: string }[]>(`select id from llm_provider_instances where display_name = 'Bob key'`);
  ids.bobProvider = row!.id;
  // A reply in another server: forged buttons and forms name it (and its conversation) from this channel.
  const elsewhere = h.discord.addGuild({ name: 'Elsewhere', ownerId: h.bob });
  const lobby = h.discord.addTextChannel(elsewhere.id, { name: 'lobby' });
  await createCharacter(h.bob, 'Roamer', 'public', lobby.id);
  await h.discord
    .slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Roamer', answers: 'all' },
      userId: h.bob,
      channelId: lobby.id,
    })
    .waitForResponse();
  const foreign = await h.discord.waitForMessage(lobby.id, (m) => Boolean(m.webhook_id) && m.content.startsWith('Hello'), 15_000);
  const foreignRow = await waitForStored(foreign.id);
  Object.assign(ids, {
    foreignReply: foreignRow.id,
    foreignDiscord: foreign.id,
    foreignContent: foreign.content,
    foreignConversation: foreignRow.conversation.id,
  });
}, 60_000);

afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
  await h?.close();
});

describe(`fuzz (seed ${seed})`, () => {
  it('survives random and malformed input, answering every interaction in plain words', async () => {
    const commands = [...(await loadCommands()).values()].map((command) => command.data.toJSON() as unknown as Json);
    const slash = commands.filter((command) => (command.type ?? 1) === 1);
    const started = Date.now();
    for (let n = 0; n < CASES; n++) {
      const roll = rng.next();
      const kind =
        roll < 0.42
          ? 'slash'
          : roll < 0.52
            ? 'autocomplete'
            : roll < 0.62
              ? 'modal'
              : roll < 0.72
                ? 'component'
                : roll < 0.78
                  ? 'forged'
                  : roll < 0.82
                    ? 'context-menu'
                    : 'message';
      counts[kind] = (counts[kind] ?? 0) + 1;
      if (kind === 'message') {
        const content = messageContent(rng, [h.alice, h.bob, ids.mallory], h.discord.botUser.id);
        const attachments = rng.chance(0.2) ? [knowledgeFile(rng)] : undefined;
        h.discord.userSays(h.channel.id, rng.pick([h.alice, h.bob, ids.mallory]), content, attachments ? { attachments } : {});
        continue;
      }
      const { interaction, input, wellFormed } =
        kind === 'slash'
          ? slashCase(slash, false)
          : kind === 'autocomplete'
            ? slashCase(slash, true)
            : kind === 'modal'
              ? modalCase()
              : kind === 'component'
                ? componentCase()
                : kind === 'forged'
                  ? forgedCase()
                  : contextMenuCase();
      const caseStarted = Date.now();
      const finding = await checkAnswer(interaction, { kind, input, wellFormed, seed, n });
      if (finding) findings.push(finding);
      timings[kind] = (timings[kind] ?? 0) + Date.now() - caseStarted;
      if (Date.now() - caseStarted > 3000)
        console.log(`slow case #${n} (${Date.now() - caseStarted} ms): ${describeCase(kind, input).slice(0, 200)}`);
      expect(h.client.isReady(), `the client fell over after case ${n}: ${describeCase(kind, input)}`).toBe(true);
    }
    // Let replies to the awful messages and queued ingestion finish.
    await settle();
    console.log(
      `fuzz: ${JSON.stringify(counts)} (ms by kind: ${JSON.stringify(timings)}) in ${Date.now() - started} ms; ${findings.length} findings`,
    );
    for (const finding of findings) console.log(`  [${finding.severity}] ${finding.problem}\n      ${finding.input}`);
    expect(crashes).toEqual([]);
    expect(h.client.isReady()).toBe(true);
    // Every message the bot posted stayed within Discord's limits and pinged nobody it should not.
    for (const request of h.discord.requests.filter((r) => r.method === 'POST' && /webhooks|messages/.test(r.route))) {
      expect(request.status, `${request.method} ${request.path} → ${request.status}`).toBeLessThan(400);
      const body = request.body as { content?: string; allowed_mentions?: { parse?: string[] } } | undefined;
      if (body?.content && /@everyone|@here|<@&?\d+>/.test(body.content)) {
        expect(body.allowed_mentions?.parse ?? [], `mentions allowed in ${request.path}`).not.toContain('everyone');
      }
    }
    expect(findings.filter((finding) => finding.severity === 'bug')).toEqual([]);
    // No forged button or form reached the other server's reply: no new version, its message as it was.
    expect(await h.deps.database.orm.em.fork().count(StoryBranch, { message: ids.foreignReply })).toBeLessThanOrEqual(1);
    expect(h.discord.message(ids.foreignDiscord)!.content).toBe(ids.foreignContent);
    expect(h.discord.message(ids.foreignDiscord)!.fake.edits.length).toBe(0);
  }, 240_000);

  it('still answers a normal message afterwards', async () => {
    h.llm.replyWith(() => ({ text: 'All is well.' }));
    const name = 'Afterwards';
    await createCharacter(h.alice, name, 'guild');
    const start = await h.discord
      .slashCommand({
        name: 'chat',
        subcommand: 'start',
        options: { character: name, answers: 'all' },
        userId: h.alice,
        channelId: h.channel.id,
      })
      .waitForResponse(undefined, 15_000);
    expect(start.data.content).toContain(name);
    h.discord.userSays(h.channel.id, h.alice, 'Hello, is everything all right?');
    await h.discord.waitForMessage(h.channel.id, (m) => Boolean(m.webhook_id) && m.content === 'All is well.', 30_000);
  }, 60_000);
});

/** Waits until the bot has made no REST call for 2 s (at most 60 s): replies to the last messages are done. */
async function settle(): Promise<void> {
  const until = Date.now() + 60_000;
  let seen = -1;
  while (Date.now() < until && seen !== h.discord.requests.length) {
    seen = h.discord.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function createCharacter(userId: string, name: string, visibility: string, channelId = h.channel.id): Promise<string> {
  const command = h.discord.slashCommand({ name: 'character', subcommand: 'create', options: { visibility }, userId, channelId });
  await command.waitForModal(15_000);
  await h.discord
    .submitModal({
      from: command,
      values: { name, personality: `${name} is a test.`, greeting: 'Hello {{user}}.', examples: '', avatar: '' },
    })
    .waitForResponse(undefined, 15_000);
  const character = await h.deps.database.orm.em.fork().findOneOrFail(Character, { name }, { orderBy: { createdAt: 'desc' } });
  return character.id;
}

async function waitForStored(discordMessageId: string) {
  for (let i = 0; i < 100 && (await h.deps.database.orm.em.fork().count(Message, { discordMessageId })) === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return h.deps.database.orm.em.fork().findOneOrFail(Message, { discordMessageId });
}

const actor = () => rng.pick([h.alice, h.alice, h.bob, ids.mallory]);
const someId = () =>
  rng.pick([
    ids.aria,
    ids.hidden,
    ids.conversation,
    ids.reply,
    ids.replyDiscord,
    ids.bobProvider,
    h.bob,
    h.alice,
    h.channel.id,
    '0',
    '-1',
    'NaN',
    '',
  ]);

/** A value for one declared option: usually the right shape, sometimes the wrong one. Returns whether Discord would send it. */
function optionValue(option: Json): { value: OptionValue; ok: boolean } {
  const type = option.type as T;
  const choices = option.choices as { value: string | number }[] | undefined;
  if (rng.chance(0.12)) {
    const wrong = rng.pick([T.String, T.Integer, T.Number, T.Boolean].filter((t) => t !== type));
    const value =
      wrong === T.String
        ? nastyString(rng, [someId()])
        : wrong === T.Boolean
          ? rng.chance(0.5)
          : rng.pick([0, -1, 1e12, 1.5, Number.MAX_SAFE_INTEGER]);
    return { value: { type: wrong, value }, ok: false };
  }
  switch (type) {
    case T.String: {
      if (choices && rng.chance(0.7)) return { value: rng.pick(choices).value as string, ok: true };
      const value = rng.chance(0.35)
        ? rng.pick([
            'Aria',
            'Hidden',
            ids.aria,
            ids.hidden,
            ids.bobProvider,
            h.bob,
            `https://discord.com/channels/${h.guild.id}/${h.channel.id}/${ids.replyDiscord}`,
          ])
        : nastyString(rng, [someId()]);
      const max = (option.max_length as number | undefined) ?? 6000;
      return { value, ok: !choices && value.length <= max && value.length > 0 };
    }
    case T.Integer:
    case T.Number: {
      const min = (option.min_value as number | undefined) ?? -1e6;
      const max = (option.max_value as number | undefined) ?? 1e6;
      const value = rng.pick([min, max, min - 1, max + 1, 0, -1, Math.round((min + max) / 2), 2 ** 53, type === T.Number ? 0.5 : 7]);
      const ok = value >= min && value <= max && (type === T.Number || Number.isInteger(value));
      return { value: { type, value }, ok };
    }
    case T.Boolean:
      return { value: rng.chance(0.5), ok: true };
    case T.Attachment:
      return { value: rng.chance(0.5) ? cardFile(rng) : knowledgeFile(rng), ok: true };
    case T.Role:
      return { value: { type, value: rng.pick([h.guild.roles[0]!.id, h.bob]) }, ok: true };
    case T.Channel:
      return { value: { type, value: h.channel.id }, ok: true };
    default:
      return { value: { type: T.String, value: 'x' }, ok: false };
  }
}

function slashCase(commands: Json[], autocomplete: boolean) {
  let command = rng.pick(commands);
  let path: { group?: string; subcommand?: string } = {};
  let leaf = (command.options as Json[] | undefined) ?? [];
  if (autocomplete) {
    // Only commands with an autocompleted option somewhere.
    const withAuto = commands.filter((c) => JSON.stringify(c.options ?? []).includes('"autocomplete":true'));
    command = rng.pick(withAuto);
    leaf = (command.options as Json[] | undefined) ?? [];
  }
  const group = leaf.filter((o) => o.type === T.SubcommandGroup);
  if (group.length && (!leaf.some((o) => o.type === T.Subcommand) || rng.chance(0.5))) {
    const picked = rng.pick(group);
    path.group = picked.name as string;
    leaf = (picked.options as Json[]) ?? [];
  }
  const subs = leaf.filter((o) => o.type === T.Subcommand);
  if (subs.length) {
    const candidates = autocomplete ? subs.filter((s) => JSON.stringify(s.options ?? []).includes('"autocomplete":true')) : subs;
    const picked = rng.pick(candidates.length ? candidates : subs);
    path.subcommand = picked.name as string;
    leaf = (picked.options as Json[]) ?? [];
  }
  if (autocomplete && !leaf.some((o) => o.autocomplete)) (path = {}), (leaf = []);
  const options: Record<string, OptionValue> = {};
  let wellFormed = true;
  for (const option of leaf) {
    if (!option.required && rng.chance(0.5)) continue;
    if (option.required && rng.chance(0.05)) {
      wellFormed = false;
      continue;
    }
    const { value, ok } = optionValue(option);
    options[option.name as string] = value;
    wellFormed &&= ok;
  }
  const where = { userId: actor(), channelId: h.channel.id };
  const focusable = leaf.filter((o) => o.autocomplete);
  const base = { name: command.name as string, ...path, options, ...where };
  if (autocomplete && focusable.length) {
    const focused = rng.pick(focusable).name as string;
    options[focused] = nastyString(rng, [someId()]).slice(0, 100);
    return { interaction: h.discord.autocomplete({ ...base, focused }), input: base, wellFormed };
  }
  return { interaction: h.discord.slashCommand(base), input: base, wellFormed: wellFormed && !autocomplete };
}

function modalCase() {
  const customId = rng.pick([
    `character:create:${rng.pick(['private', 'guild', 'public', 'secret', ''])}:${rng.pick(['true', 'false', 'maybe'])}`,
    `character:edit:${rng.pick([ids.aria, ids.hidden, someId()])}`,
    `provider:add:${rng.pick(['user', 'guild', 'system', 'root'])}:${rng.pick(['openai', 'openai-compatible', 'anthropic', 'ollama', 'gopher'])}`,
    `memory:save-summary:${rng.pick([ids.conversation, someId()])}`,
    `lore:save:${rng.pick([ids.aria, ids.hidden, someId()])}:${someId()}`,
    garbageCustomId(),
  ]);
  const fields = [
    'name',
    'personality',
    'greeting',
    'examples',
    'avatar',
    'endpoint',
    'key',
    'model',
    'text',
    'keys',
    'secondary',
    'content',
    'content2',
  ];
  const values: Record<string, string> = {};
  for (const field of fields) if (rng.chance(0.6)) values[field] = rng.chance(0.3) ? '' : nastyString(rng, [someId()]).slice(0, 4000);
  if (rng.chance(0.2)) values[unicode(rng, 5)] = 'stray field';
  const input = { customId, values, userId: actor(), channelId: h.channel.id };
  return { interaction: h.discord.submitModal(input), input, wellFormed: false };
}

function garbageCustomId(): string {
  return rng.pick([
    ':::',
    'nope:x',
    'chat',
    'chat:',
    'x'.repeat(100),
    unicode(rng, 30).slice(0, 100),
    'memory:',
    'provider:add',
    'character:edit',
    'lore:page',
    '\u200b:\u200b',
  ]);
}

function componentCase() {
  const message = h.discord.message(ids.replyDiscord)!;
  const select = rng.chance(0.15);
  const customId = select
    ? `Add to character knowledge:pick:${rng.pick([h.channel.id, someId()])}:${rng.pick([ids.replyDiscord, someId()])}`
    : rng
        .pick([
          `chat:${rng.pick(['swipe', 'regenerate', 'continue', 'position'])}:${rng.pick([ids.reply, someId()])}${rng.chance(0.5) ? `:${rng.pick(['1', '-1', '99', 'x'])}` : ''}`,
          `memory:${rng.pick(['sources', 'edit-summary', 'forget-all', 'cancel', 'delete-me'])}:${rng.pick([ids.conversation, ids.reply, someId()])}`,
          `character:page:${rng.pick(['0', '-5', 'NaN', '1e9'])}:${nastyString(rng).slice(0, 40)}`,
          `lore:page:${rng.pick([ids.aria, ids.hidden, someId()])}:${rng.pick(['0', '-1', 'x'])}`,
          garbageCustomId(),
        ])
        .slice(0, 100);
  // delete-me is only pressed by mallory, so the fuzz keeps alice's and bob's things to work on.
  const userId = customId.startsWith('memory:delete-me') ? ids.mallory : actor();
  const data: Json = select
    ? { custom_id: customId, component_type: ComponentType.StringSelect, values: [rng.pick([ids.aria, ids.hidden, someId()])] }
    : { custom_id: customId, component_type: ComponentType.Button };
  const interaction = dispatchRaw(InteractionType.MessageComponent, { userId, channelId: h.channel.id }, data, {
    message: messagePayload(message),
  });
  return { interaction, input: { customId, userId, data }, wellFormed: false };
}

/**
 * What a modified client can send: buttons and forms naming a reply or conversation of another server, provider
 * forms with a forged scope or type, with every field a real form has. Each must get a plain refusal (an internal
 * error is a bug here) and change nothing there.
 */
function forgedCase() {
  const userId = actor();
  const reply = rng.pick([ids.foreignReply, ids.foreignReply, ids.reply, someId()]);
  if (rng.chance(0.65)) {
    const customId = rng.pick([
      `chat:regenerate:${reply}`,
      `chat:continue:${reply}`,
      `chat:swipe:${reply}:${rng.pick(['1', '-1'])}`,
      `memory:sources:${reply}`,
      `memory:edit-summary:${ids.foreignConversation}`,
      `memory:forget-all:${ids.foreignConversation}`,
    ]);
    const interaction = h.discord.forgedComponent({ customId, userId, channelId: h.channel.id, messageId: ids.replyDiscord });
    return { interaction, input: { forged: customId, userId }, wellFormed: true };
  }
  const customId = rng.pick([
    `memory:save-summary:${ids.foreignConversation}`,
    `provider:add:${rng.pick(['user', 'guild', 'system', 'root', ''])}:${rng.pick(['openai-compatible', 'gopher', '__proto__', ''])}`,
  ]);
  const values: Record<string, string> = customId.startsWith('memory')
    ? { text: 'A forged summary.' }
    : {
        name: 'Forged',
        endpoint: rng.pick([h.llm.url, `https://example.com/${'a'.repeat(5000)}`, 'gopher://127.0.0.1/']),
        key: '',
        model: '',
      };
  const input = { customId, values, userId, channelId: h.channel.id };
  return { interaction: h.discord.submitModal(input), input, wellFormed: true };
}

function contextMenuCase() {
  const attachments = Array.from({ length: rng.int(0, 3) }, () => knowledgeFile(rng));
  const target = h.discord.userSays(h.channel.id, rng.pick([h.alice, h.bob]), rng.chance(0.5) ? '' : 'see attached', { attachments });
  const data = {
    id: '1',
    name: 'Add to character knowledge',
    type: 3,
    target_id: target.id,
    resolved: { messages: { [target.id]: messagePayload(target) } },
  };
  const userId = actor();
  const interaction = dispatchRaw(InteractionType.ApplicationCommand, { userId, channelId: h.channel.id }, data);
  return {
    interaction,
    input: { contextMenu: 'Add to character knowledge', files: attachments.map((a) => a.name), userId },
    wellFormed: true,
  };
}

/** An interaction with any data: custom ids no button carries, context menus the fake has no helper for. */
function dispatchRaw(type: InteractionType, where: { userId: string; channelId: string }, data: Json, extra: Json = {}): FakeInteraction {
  const payload = baseInteraction(ctx, type, where, data, extra);
  const interaction = new FakeInteractionClass(ctx, payload);
  ctx.interactions.set(interaction.id, interaction);
  ctx.dispatch('INTERACTION_CREATE', payload);
  return interaction;
}
