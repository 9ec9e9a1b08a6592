import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { resolveActor } from '../../src/core/identity.js';
import { Character, Message } from '../../src/db/entities/index.js';
import { usePersona } from '../../src/personas/choices.js';
import { createPersona } from '../../src/personas/personas.js';
import type { FakeDiscord, StoredChannel } from '../discord-fake/index.js';
import type { RecordedRequest } from '../fakes-llm/fake-server.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

// Issue 19: two people with personas (Alice proxies as Kestrel, Bob wears Wren without proxying) and two AI
// characters in one scene thread. Every prompt names the people by their personas, never by their Discord names.
let harness: BotHarness;
let discord: FakeDiscord;
let thread: StoredChannel;

const KESTREL = 'A wandering ranger with two hawks.';
const WREN = 'A quiet herbalist from the marshes.';
const DISCORD_NAMES = /\b(Alice|alice|Bob|bob)\b/;

const chats = () => harness.llm.requests.filter((r) => r.path === '/v1/chat/completions');
const speakerOf = (request: RecordedRequest) => /^Write (.+?)'s next reply/.exec(request.body.messages[0].content)?.[1] ?? '?';
const messagesOf = (request: RecordedRequest) => request.body.messages as { role: string; content: string }[];
const promptText = (request: RecordedRequest) =>
  messagesOf(request)
    .map((m) => m.content)
    .join('\n');
const occurrences = (text: string, part: string) => text.split(part).length - 1;
const em = () => harness.deps.database.orm.em.fork();

/** A person writes in the scene; returns the Discord id the history keeps (the repost's, when proxied) once stored. */
async function say(userId: string, text: string): Promise<string> {
  const said = discord.userSays(thread.id, userId, text);
  const kept = async () =>
    (await em().findOne(Message, { $or: [{ discordMessageId: said.id }, { metadata: { proxiedFrom: said.id } }] }))?.discordMessageId;
  await expect.poll(kept, { timeout: 10_000, interval: 20 }).toBeTruthy();
  return (await kept())!;
}

/**
 * The invariants of a prompt in this scene: {{user}} (whom the card talks with, and the last name of the main
 * prompt) is one of the personas, `user` when given; that persona's description is the persona description and the
 * other person's is among the others; each is described once; the Discord names appear nowhere. Returns the text.
 */
function expectNamedRight(request: RecordedRequest, user?: string): string {
  const text = promptText(request);
  const speaker = speakerOf(request);
  const named = new RegExp(`${speaker} is an adventurer who talks with (\\w+)\\.`).exec(text)?.[1];
  expect(named).toBeDefined();
  if (user) expect(named).toBe(user);
  expect(['Kestrel', 'Wren']).toContain(named);
  const [mine, other, theirs] = named === 'Kestrel' ? [KESTREL, 'Wren', WREN] : [WREN, 'Kestrel', KESTREL];
  const system = messagesOf(request).filter((m) => m.role === 'system');
  expect(system[0]!.content).toMatch(new RegExp(`between .* and ${named}\\.`));
  // ST's personaDescription part holds {{user}}'s persona alone.
  expect(system.map((m) => m.content.trim())).toContain(mine);
  expect(system.find((m) => m.content.startsWith('Other people here play'))?.content).toContain(`${other}: ${theirs}`);
  expect(occurrences(text, KESTREL)).toBe(1);
  expect(occurrences(text, WREN)).toBe(1);
  expect(text).not.toMatch(DISCORD_NAMES);
  return text;
}

/** Waits until the scene is idle; the chat requests since `before`. */
async function requestsSince(before: number): Promise<RecordedRequest[]> {
  await harness.deps.scenes.idle();
  return chats().slice(before);
}

beforeAll(async () => {
  harness = await startBotHarness({ SCENE_DEBOUNCE_MS: '500' });
  discord = harness.discord;
  harness.llm.replyWith((request) => {
    if (request.path !== '/v1/chat/completions') return undefined;
    return { text: `${speakerOf(request)} nods.` };
  });
  const alice = await resolveActor(em(), { user: { id: harness.alice, username: 'alice' }, guild: { id: harness.guild.id } });
  const bob = await resolveActor(em(), { user: { id: harness.bob, username: 'bob' }, guild: { id: harness.guild.id } });
  for (const [name, greeting] of [
    ['Aria', 'Well met, {{user}}!'],
    ['Borin', 'Hrmph, {{user}}.'],
    ['Cass', 'Hello, {{user}}.'],
  ]) {
    await createCharacter(em(), alice, {
      name: name!,
      personalityPrompt: `${name} is an adventurer who talks with {{user}}.`,
      greeting,
      visibility: 'guild',
    });
  }
  // Nobody speaks up unprompted: who answers is decided by names alone.
  await em().nativeUpdate(Character, {}, { config: { talkativeness: 0 } });
  const kestrel = await createPersona(em(), alice.user, { name: 'Kestrel', description: KESTREL, proxyTags: [{ prefix: 'K:' }] });
  await usePersona(em(), alice.user, kestrel, 'everywhere');
  const wren = await createPersona(em(), bob.user, { name: 'Wren', description: WREN });
  await usePersona(em(), bob.user, wren, 'server', harness.guild.id);
});
afterAll(async () => {
  await harness?.close();
});

describe('two people with personas and two characters in a scene thread', () => {
  it('/scene start greets the person who started it by their persona', async () => {
    const started = await discord
      .slashCommand({
        name: 'scene',
        subcommand: 'start',
        options: { characters: 'Aria, Borin', title: 'The Ford', scenario: 'Dawn at a river crossing.' },
        userId: harness.alice,
        channelId: harness.channel.id,
      })
      .waitForReply();
    thread = discord.store.channel(/<#(\d+)>/.exec(started.content)![1]!);
    const greeting = await discord.waitForMessage(thread.id, (m) => Boolean(m.webhook_id));
    expect(greeting).toMatchObject({ content: 'Well met, Kestrel!', author: { username: 'Aria' } });
  });

  it('a round after both speak: every prompt names each line by its persona and describes each persona once', async () => {
    const before = chats().length;
    const kestrelLine = await say(harness.alice, 'K: Aria, is the ford safe?');
    expect(discord.message(kestrelLine)).toMatchObject({ author: { username: 'Kestrel' }, content: 'Aria, is the ford safe?' });
    await say(harness.bob, 'Aria and Borin, can you carry my herbs across?');
    const requests = await requestsSince(before);
    // Aria is named first either way (whether Bob's line made it into the round's debounce window or not).
    expect(requests.map(speakerOf)[0]).toBe('Aria');
    for (const request of requests) {
      const text = expectNamedRight(request);
      expect(text).toContain('Well met, Kestrel!');
      expect(text).toContain('Kestrel: Aria, is the ford safe?');
      expect(text).toContain('Wren: Aria and Borin, can you carry my herbs across?');
    }
  });

  it('{{user}} and the persona description are the person being answered, not whoever spoke last', async () => {
    let before = chats().length;
    await say(harness.alice, 'K: Borin, lead the way.');
    let requests = await requestsSince(before);
    expect(requests.map(speakerOf)).toEqual(['Borin']);
    expect(expectNamedRight(requests[0]!, 'Kestrel')).toContain('Kestrel: Borin, lead the way.');
    // Bob asks for Aria's turn: she answers him (Wren), though Kestrel spoke last.
    before = chats().length;
    await discord
      .slashCommand({ name: 'scene', subcommand: 'next', options: { character: 'Aria' }, userId: harness.bob, channelId: thread.id })
      .waitForReply();
    requests = await requestsSince(before);
    expect(requests.map(speakerOf)).toEqual(['Aria']);
    expectNamedRight(requests[0]!, 'Wren');
  });

  it('/scene add greets by the persona too', async () => {
    await discord
      .slashCommand({ name: 'scene', subcommand: 'add', options: { character: 'Cass' }, userId: harness.alice, channelId: thread.id })
      .waitForReply();
    const greeting = await discord.waitForMessage(thread.id, (m) => m.author.username === 'Cass');
    expect(greeting.content).toBe('Hello, Kestrel.');
    await harness.deps.scenes.idle();
  });

  it('/chat start greets by the persona the person wears there (Wren, chosen for the server)', async () => {
    const tavern = discord.addTextChannel(harness.guild.id, { name: 'tavern' });
    await discord
      .slashCommand({ name: 'chat', subcommand: 'start', options: { character: 'Borin' }, userId: harness.bob, channelId: tavern.id })
      .waitForReply();
    const greeting = await discord.waitForMessage(tavern.id, (m) => m.author.username === 'Borin');
    expect(greeting.content).toBe('Hrmph, Wren.');
  });
});
