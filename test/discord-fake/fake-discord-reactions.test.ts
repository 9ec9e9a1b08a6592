import { once } from 'node:events';
import { Client, Events, GatewayIntentBits, Partials, type Interaction, type MessageReaction, type User } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeDiscord, StoredChannel } from './index.js';
import { login, startTestWorld, type TestWorld } from './test-world.js';

let world: TestWorld;
let discord: FakeDiscord;
let channel: StoredChannel;
let aliceId: string;
let reacting: Client;

beforeAll(async () => {
  world = await startTestWorld();
  ({ discord, channel, aliceId } = world);
  reacting = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.GuildMessageReactions],
    partials: [Partials.Message, Partials.Reaction, Partials.User],
    rest: { api: discord.restUrl },
  });
  await login(reacting, discord);
});

afterAll(async () => {
  await reacting?.destroy();
  await world?.close();
});

describe('reactions and message commands', () => {
  it('sends MESSAGE_REACTION_ADD only to sessions with the Guild Message Reactions intent, and counts it on the message', async () => {
    const message = discord.userSays(channel.id, aliceId, 'react to me');
    const seen: string[] = [];
    world.client.on(Events.MessageReactionAdd, () => seen.push('world'));
    const received = once(reacting, Events.MessageReactionAdd) as Promise<[MessageReaction, User]>;
    discord.userReacts(message.id, aliceId, '❌');
    const [reaction, user] = await received;
    expect(reaction.emoji.name).toBe('❌');
    expect(reaction.message.id).toBe(message.id);
    expect(user.id).toBe(aliceId);
    const sent = discord.dispatches.filter((d) => d.t === 'MESSAGE_REACTION_ADD').at(-1)!;
    expect(sent.d).toMatchObject({ message_author_id: aliceId, guild_id: channel.guildId, burst: false, type: 0 });
    expect(discord.message(message.id)!.reactions).toEqual([expect.objectContaining({ count: 1, emoji: { id: null, name: '❌' } })]);
    discord.userReacts(message.id, aliceId, '❌');
    expect(discord.message(message.id)!.reactions![0]!.count).toBe(2);
    expect(seen).toEqual([]);
  });

  it('runs a message context-menu command with the target message resolved', async () => {
    const message = discord.userSays(channel.id, aliceId, 'the target');
    const received = once(world.client, Events.InteractionCreate) as Promise<[Interaction]>;
    discord.messageCommand({ name: 'Quote', targetId: message.id, userId: aliceId, channelId: channel.id });
    const [interaction] = await received;
    expect(interaction.isMessageContextMenuCommand()).toBe(true);
    if (!interaction.isMessageContextMenuCommand()) return;
    expect(interaction.commandName).toBe('Quote');
    expect(interaction.targetId).toBe(message.id);
    expect(interaction.targetMessage.content).toBe('the target');
  });
});
