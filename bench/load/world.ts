import { startFakeDiscord, type FakeDiscord, type FakeInteraction, type StoredChannel } from '../../test/discord-fake/index.js';
import type { LoadParams } from './params.js';

const CHARACTER_NAMES = ['Aria', 'Borin', 'Cass', 'Dorian', 'Elowen', 'Fenn', 'Greta', 'Hale', 'Isolde', 'Jory', 'Kestrel', 'Lumi'];

/** Where people talk: a bound channel (answers every message) or a scene thread. */
export interface Place {
  kind: 'channel' | 'scene';
  /** The channel, or the scene's thread. */
  id: string;
  /** The scene thread's parent (whose webhook its characters use). */
  parentId?: string;
  characters: string[];
}

export interface LoadWorld {
  discord: FakeDiscord;
  guildId: string;
  ownerId: string;
  /** People, each with the place they talk in. */
  people: { id: string; name: string; place: Place }[];
  places: Place[];
}

/** A fake Discord with one server, its channels and its people (before the bot connects, so READY carries them). */
export async function buildWorld(
  params: LoadParams,
): Promise<{ discord: FakeDiscord; guildId: string; ownerId: string; channelIds: string[]; sceneParentIds: string[]; userIds: string[] }> {
  const discord = await startFakeDiscord({
    botUser: { username: 'DreamChat' },
    rateLimits: 'discord',
    waitTimeoutMs: 30_000,
    interactionTimeoutMs: 10_000,
  });
  const owner = discord.addUser({ username: 'owner', globalName: 'Owner' });
  const guild = discord.addGuild({ name: 'Load Tavern', ownerId: owner.id });
  const channelIds = Array.from({ length: params.channels }, (_, i) => discord.addTextChannel(guild.id, { name: `chat-${i + 1}` }).id);
  const sceneParentIds = Array.from({ length: params.scenes }, (_, i) => discord.addTextChannel(guild.id, { name: `scene-${i + 1}` }).id);
  const userIds = Array.from({ length: params.users }, (_, i) => {
    const user = discord.addUser({ username: `player${i + 1}`, globalName: `Player ${i + 1}` });
    discord.addMember(guild.id, user.id);
    return user.id;
  });
  return { discord, guildId: guild.id, ownerId: owner.id, channelIds, sceneParentIds, userIds };
}

/**
 * Sets the world up the way people would, through the running gateway:
 * characters with /character create and its form, /chat start answers:all
 * in every chat channel, /scene start (two or three characters) in every
 * scene channel; waits for each greeting.
 */
export async function setUpThroughCommands(built: Awaited<ReturnType<typeof buildWorld>>, params: LoadParams): Promise<LoadWorld> {
  const { discord, ownerId } = built;
  const names = CHARACTER_NAMES;
  const used = new Set([...built.channelIds.map((_, i) => names[i % names.length]!), ...built.sceneParentIds.flatMap((_, i) => castOf(i))]);
  await inBatches([...used], 4, async (name) => {
    const command = discord.slashCommand({
      name: 'character',
      subcommand: 'create',
      options: { visibility: 'guild' },
      userId: ownerId,
      channelId: built.channelIds[0]!,
    });
    await command.waitForModal();
    const submit = discord.submitModal({
      from: command,
      values: {
        name,
        personality: `${name} is a traveller at the inn who talks briefly.`,
        greeting: `${name} waves hello.`,
        examples: '',
        avatar: `https://cdn.example.org/${name}.png`,
      },
    });
    expectContent((await submit.waitForReply(30_000)).content, `**${name}** is ready`);
  });
  const channels: Place[] = built.channelIds.map((id, i) => ({ kind: 'channel', id, characters: [names[i % names.length]!] }));
  await inBatches(channels, 5, async (place) => {
    const start = discord.slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: place.characters[0]!, answers: 'all' },
      userId: ownerId,
      channelId: place.id,
    });
    expectContent((await start.waitForReply(30_000)).content, 'is here');
    await discord.waitForMessage(place.id, (m) => Boolean(m.webhook_id) && m.content.endsWith('waves hello.'), 30_000);
  });
  const scenes: Place[] = [];
  await inBatches(
    built.sceneParentIds.map((parentId, i) => ({ parentId, i })),
    5,
    async ({ parentId, i }) => {
      const cast = castOf(i);
      const run = discord.slashCommand({
        name: 'scene',
        subcommand: 'start',
        options: { characters: cast.join(', '), title: `Scene ${i + 1}` },
        userId: ownerId,
        channelId: parentId,
      });
      const reply = await run.waitForReply(30_000);
      const threadId = /<#(\d+)>/.exec(reply.content ?? '')?.[1];
      if (!threadId) throw new Error(`/scene start did not open a thread: ${JSON.stringify(reply.content)}`);
      await discord.waitForMessage(threadId, (m) => Boolean(m.webhook_id) && m.content.endsWith('waves hello.'), 30_000);
      scenes.push({ kind: 'scene', id: threadId, parentId, characters: cast });
    },
  );
  const places = [...channels, ...scenes];
  const people = built.userIds.map((id, i) => ({ id, name: `Player ${i + 1}`, place: places[i % places.length]! }));
  return { discord, guildId: built.guildId, ownerId, people, places };
}

/** Scene i's characters: three for even scenes, two for odd ones. */
function castOf(i: number): string[] {
  return Array.from({ length: i % 2 === 0 ? 3 : 2 }, (_, k) => CHARACTER_NAMES[(i * 3 + k) % CHARACTER_NAMES.length]!);
}

function expectContent(content: string | undefined, text: string): void {
  if (!content?.includes(text)) throw new Error(`expected a reply containing "${text}", got ${JSON.stringify(content)}`);
}

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

export type { FakeInteraction, StoredChannel };
