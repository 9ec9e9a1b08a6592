import { once } from 'node:events';
import { Client, Events, GatewayIntentBits, Partials, type Interaction, type TextChannel } from 'discord.js';
import { startFakeDiscord, type FakeDiscord, type FakeDiscordOptions, type StoredChannel, type StoredGuild } from './index.js';

/** The real discord.js client as the bot configures it, pointed at a fake. */
export function newClient(fake: FakeDiscord): Client {
  return new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
    ],
    partials: [Partials.Channel],
    rest: { api: fake.restUrl },
  });
}

export async function login(target: Client, fake: FakeDiscord): Promise<void> {
  await Promise.all([once(target, Events.ClientReady), target.login(fake.token)]);
}

export interface TestWorld {
  discord: FakeDiscord;
  client: Client;
  guild: StoredGuild;
  channel: StoredChannel;
  aliceId: string;
  /** The client's cached TextChannel for `channel`. */
  textChannel(): TextChannel;
  /** Runs `handler` on the next interaction the client receives; resolves with its result. */
  nextInteraction<T>(handler: (interaction: Interaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A fake with one guild (#roleplay), a user alice, and a logged-in client. */
export async function startTestWorld(options: FakeDiscordOptions = {}): Promise<TestWorld> {
  // Relaxed buckets keep the tests fast; the rate-limit tests check Discord-like buckets on their own.
  const discord = await startFakeDiscord({ botUser: { username: 'DreamChat' }, rateLimits: 'relaxed', ...options });
  const owner = discord.addUser({ username: 'owner' });
  const guild = discord.addGuild({ name: 'Tavern', ownerId: owner.id });
  const channel = discord.addTextChannel(guild.id, { name: 'roleplay' });
  const aliceId = discord.addUser({ username: 'alice', globalName: 'Alice' }).id;
  const client = newClient(discord);
  await login(client, discord);
  return {
    discord,
    client,
    guild,
    channel,
    aliceId,
    textChannel: () => client.channels.cache.get(channel.id) as TextChannel,
    nextInteraction: (handler) =>
      new Promise((resolve, reject) => {
        client.once(Events.InteractionCreate, (interaction) => void handler(interaction).then(resolve, reject));
      }),
    close: async () => {
      await client.destroy();
      await discord.close();
    },
  };
}
