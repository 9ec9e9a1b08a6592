import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { resolveActor } from '../../src/core/identity.js';
import { Character, Conversation, Message } from '../../src/db/entities/index.js';
import type { FakeDiscord, StoredChannel } from '../discord-fake/index.js';
import type { RecordedRequest } from '../fakes-llm/fake-server.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

let harness: BotHarness;
let discord: FakeDiscord;
let thread: StoredChannel;
/** Lines each character will say next, by name; otherwise "<name> nods." */
const lines = new Map<string, string[]>();

const chats = () => harness.llm.requests.filter((r) => r.path === '/v1/chat/completions');
const speakerOf = (request: RecordedRequest) => /^Write (.+?)'s next reply/.exec(request.body.messages[0].content)?.[1] ?? '?';
const promptText = (request: RecordedRequest) => request.body.messages.map((m: { content: string }) => m.content).join('\n');
const em = () => harness.deps.database.orm.em.fork();
/** Characters' posts in the scene thread, oldest first. */
const posts = () => discord.webhookMessages(thread.id).filter((m) => !m.fake.deleted);

/** A person writes in the scene; returns once the bot has stored it (and so scheduled its round). */
async function say(userId: string, text: string) {
  const said = discord.userSays(thread.id, userId, text);
  await expect.poll(() => em().count(Message, { discordMessageId: said.id }), { timeout: 10_000, interval: 20 }).toBe(1);
}

/** Waits until the scene has no round running or waiting, then returns the speakers of the chat requests since `before`. */
async function speakersSince(before: number): Promise<string[]> {
  await harness.deps.scenes.idle();
  return chats().slice(before).map(speakerOf);
}

async function command(subcommand: string, options: Record<string, string | number | boolean> = {}, channelId = thread.id) {
  return discord.slashCommand({ name: 'scene', subcommand, options, userId: harness.alice, channelId }).waitForReply();
}

beforeAll(async () => {
  harness = await startBotHarness({ SCENE_DEBOUNCE_MS: '500' });
  discord = harness.discord;
  harness.llm.replyWith((request) => {
    if (request.path !== '/v1/chat/completions') return undefined;
    const system = String(request.body.messages[0].content);
    if (system.startsWith('Summarise')) return { text: 'Aria, Borin and Cass met at the inn and planned a journey north.' };
    const name = speakerOf(request);
    return { text: lines.get(name)?.shift() ?? `${name} nods.` };
  });
  const actor = await resolveActor(em(), { user: { id: harness.alice, username: 'alice' }, guild: { id: harness.guild.id } });
  for (const [name, greeting] of [
    ['Aria', 'Welcome, travellers!'],
    ['Borin', 'Hrmph.'],
    ['Cass', 'Hello.'],
    ['Dorian', 'Greetings, all.'],
  ]) {
    await createCharacter(em(), actor, {
      name: name!,
      personalityPrompt: `${name} is an adventurer.`,
      greeting,
      visibility: 'guild',
      avatarUrl: `https://cdn.example.org/${name}.png`,
    });
  }
  // Nobody speaks up unprompted, so who answers is decided by names alone.
  await em().nativeUpdate(Character, {}, { config: { talkativeness: 0 } });
});
afterAll(async () => {
  await harness?.close();
});

describe('scenes in threads, through the fake Discord', () => {
  it('/scene start opens a thread, posts the scenario and lets the first character greet through the parent’s webhook', async () => {
    const started = await discord
      .slashCommand({
        name: 'scene',
        subcommand: 'start',
        options: { characters: 'Aria, Borin, Cass', title: 'The Prancing Pony', scenario: 'A rainy night at a crowded inn.' },
        userId: harness.alice,
        channelId: harness.channel.id,
      })
      .waitForReply();
    const threadId = /<#(\d+)>/.exec(started.content)![1]!;
    thread = discord.store.channel(threadId);
    expect(thread.parentId).toBe(harness.channel.id);
    const greeting = await discord.waitForMessage(thread.id, (m) => Boolean(m.webhook_id));
    expect(greeting).toMatchObject({ content: 'Welcome, travellers!', author: { username: 'Aria' } });
    expect(greeting.fake.avatarUrl).toBe('https://cdn.example.org/Aria.png');
    expect(discord.messages(thread.id)[0]!.content).toContain('A rainy night at a crowded inn.');
    const posted = discord.requestsTo({ method: 'POST', route: '/webhooks/:webhookId/:token' });
    expect(posted.at(-1)!.query.thread_id).toBe(thread.id);
  });

  it('a mention makes the named character answer; its reply can hand the turn on, up to the auto-turn limit', async () => {
    lines.set('Cass', ['I see a hooded stranger, Borin.']);
    lines.set('Borin', ['Aria, do you know him?']);
    lines.set('Aria', ['Cass, ask him yourself.']);
    const before = chats().length;
    await say(harness.alice, 'Cass, what do you see by the fire?');
    // Cass was named; Cass names Borin, Borin names Aria: two automatic turns, then the scene waits (Aria named Cass).
    expect(await speakersSince(before)).toEqual(['Cass', 'Borin', 'Aria']);
    expect(
      posts()
        .slice(-3)
        .map((m) => m.author.username),
    ).toEqual(['Cass', 'Borin', 'Aria']);
    // Each character's prompt carries its own card, and the others' lines with their names.
    const borin = chats()[before + 1]!;
    expect(promptText(borin)).toContain('Borin is an adventurer.');
    expect(promptText(borin)).not.toContain('Cass is an adventurer.');
    expect(promptText(borin)).toContain('Cass: I see a hooded stranger, Borin.');
  });

  it('gathers two people’s messages within the debounce window into one round', async () => {
    const before = chats().length;
    await say(harness.alice, 'Let us sit down.');
    await say(harness.bob, 'I will order the stew, Borin.');
    const speakers = await speakersSince(before);
    expect(speakers).toEqual(['Borin']);
    const prompt = promptText(chats()[before]!);
    expect(prompt).toContain('Alice: Let us sit down.');
    expect(prompt).toContain('Bob: I will order the stew, Borin.');
  });

  it('a muted character never speaks on its own, and still does when called with /scene next', async () => {
    expect((await command('mute', { character: 'Borin' })).content).toContain('**Borin** is muted');
    const before = chats().length;
    await say(harness.alice, 'Borin and Cass, are you ready?');
    expect(await speakersSince(before)).toEqual(['Cass']);
    await command('next', { character: 'Borin' });
    expect(await speakersSince(before + 1)).toEqual(['Borin']);
    await command('unmute', { character: 'Borin' });
  });

  it('a character added later does not know what was said before it joined', async () => {
    await command('add', { character: 'Dorian' });
    await discord.waitForMessage(thread.id, (m) => m.author.username === 'Dorian');
    const before = chats().length;
    await say(harness.alice, 'Dorian, the password is mellon.');
    expect(await speakersSince(before)).toEqual(['Dorian']);
    const dorian = chats()
      .filter((r) => speakerOf(r) === 'Dorian')
      .at(-1)!;
    expect(promptText(dorian)).toContain('the password is mellon');
    expect(promptText(dorian)).not.toContain('hooded stranger');
    // Regenerating Dorian's reply keeps to what he could know.
    const shown = posts().at(-1)!;
    const stored = await em().findOneOrFail(Message, { discordMessageId: shown.id });
    lines.set('Dorian', ['Mellon, you say?']);
    discord.pressButton(shown.id, `chat:regenerate:${stored.id}`, harness.alice);
    await expect.poll(() => discord.message(shown.id)?.content, { timeout: 15_000 }).toBe('Mellon, you say?');
    const again = chats()
      .filter((r) => speakerOf(r) === 'Dorian')
      .at(-1)!;
    expect(promptText(again)).toContain('the password is mellon');
    expect(promptText(again)).not.toContain('hooded stranger');
    // The founding characters heard everything.
    await command('next', { character: 'Aria' });
    await speakersSince(0);
    const aria = chats()
      .filter((r) => speakerOf(r) === 'Aria')
      .at(-1)!;
    expect(promptText(aria)).toContain('hooded stranger');
  });

  it('recreates the webhook once when Discord says it is gone, and still delivers the reply', async () => {
    const [webhook] = discord.webhooks(harness.channel.id);
    discord.deleteWebhook(webhook!.id);
    lines.set('Cass', ['Still here.']);
    await say(harness.alice, 'Cass?');
    const delivered = await discord.waitForMessage(thread.id, (m) => m.content === 'Still here.');
    expect(delivered.author.username).toBe('Cass');
    expect(discord.webhooks(harness.channel.id).filter((w) => !w.deleted)).toHaveLength(1);
    expect(discord.requestsTo({ method: 'POST', route: '/channels/:channelId/webhooks' })).toHaveLength(2);
    await harness.deps.scenes.idle();
  });

  it('runs each strategy: list (everyone in order), pooled (one), manual (nobody until /scene next)', async () => {
    await command('settings', { strategy: 'list', auto_turns: 0 });
    let before = chats().length;
    await say(harness.alice, 'Everyone, introduce yourselves.');
    expect(await speakersSince(before)).toEqual(['Aria', 'Borin', 'Cass', 'Dorian']);

    await command('settings', { strategy: 'pooled' });
    before = chats().length;
    await say(harness.alice, 'Someone tell a joke.');
    expect(await speakersSince(before)).toHaveLength(1);

    const shown = await command('settings', { strategy: 'manual' });
    expect(JSON.stringify(shown.embeds)).toContain('manual');
    before = chats().length;
    await say(harness.alice, 'Aria, anything to add?');
    expect(await speakersSince(before)).toEqual([]);
    await command('next', {});
    expect(await speakersSince(before)).toHaveLength(1);
  });

  it('/scene end summarises the scene and archives the thread; the scene then stays quiet', async () => {
    const ended = await command('end');
    expect(ended.content).toContain('planned a journey north');
    await expect.poll(() => discord.store.channel(thread.id).thread?.archived).toBe(true);
    const conversation = await em().findOneOrFail(Conversation, { discordChannelId: thread.id });
    expect((conversation.settings as { scene: { summary: string; endedAt: string } }).scene).toMatchObject({
      summary: 'Aria, Borin and Cass met at the inn and planned a journey north.',
      endedAt: expect.any(String),
    });
  });

  it('explains plainly when a scene command is used outside a scene', async () => {
    const response = await command('next', {}, harness.channel.id);
    expect(response.content).toBe('This is not a running scene.');
    expect((response.flags ?? 0) & 64).toBe(64);
    const bind = await discord
      .slashCommand({ name: 'chat', subcommand: 'start', options: { character: 'Aria' }, userId: harness.alice, channelId: thread.id })
      .waitForReply();
    expect(bind.content).toBe('This thread is a scene. Use /scene add to bring another character in.');
  });
});
