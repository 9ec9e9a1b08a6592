import { Client, Events, GatewayIntentBits, Partials, type Interaction } from 'discord.js';
import type { Logger } from '../logger.js';
import type { Command, CommandContext } from './command.js';
import { handleInteractionError } from './handle-error.js';

export interface BotOptions {
  token: string;
  /** Base URL of Discord's REST API; set only to talk to a proxy or a test server. */
  apiUrl?: string;
  commands: Map<string, Command>;
  context: CommandContext;
  logger: Logger;
}

/** The Discord gateway client. The only place the bot listens to Discord. */
export async function startBot(options: BotOptions): Promise<Client> {
  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
    ],
    partials: [Partials.Channel],
    rest: options.apiUrl ? { api: options.apiUrl } : {},
  });
  client.once(Events.ClientReady, (ready) => {
    options.logger.info({ user: ready.user.tag, guilds: ready.guilds.cache.size }, 'connected to Discord');
  });
  client.on(Events.Error, (error) => options.logger.error({ err: error }, 'Discord client error'));
  client.on(Events.InteractionCreate, (interaction) => {
    void dispatch(interaction, options);
  });
  await client.login(options.token);
  return client;
}

async function dispatch(interaction: Interaction, options: BotOptions): Promise<void> {
  if (!interaction.isChatInputCommand() && !interaction.isAutocomplete()) return;
  const logger = options.logger.child({
    interaction: interaction.id,
    command: interaction.commandName,
    user: interaction.user.id,
    guild: interaction.guildId ?? 'dm',
  });
  const command = options.commands.get(interaction.commandName);
  if (!command) {
    logger.warn('unknown command (run npm run deploy-commands after changing commands)');
    return;
  }
  const context = { ...options.context, logger };
  if (interaction.isAutocomplete()) {
    await command.autocomplete?.(interaction, context).catch((error: unknown) => {
      logger.warn({ err: error }, 'autocomplete failed');
    });
    return;
  }
  try {
    await command.execute(interaction, context);
  } catch (error) {
    await handleInteractionError(interaction, error, logger);
  }
}
