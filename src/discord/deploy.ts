import { REST, Routes } from 'discord.js';
import { ConfigError, requireDiscordToken } from '../config.js';
import { exitWith, startProcess } from '../process.js';
import { loadCommands } from './load-commands.js';

/**
 * `npm run deploy-commands`: registers the slash commands with Discord. With
 * DISCORD_DEV_GUILD_ID set they go to that one server (instant, for
 * development); otherwise globally (may take up to an hour to appear).
 * Run it after adding or changing a command, never on every start.
 */
async function main(): Promise<void> {
  const { config, logger } = startProcess('deploy');
  const token = requireDiscordToken(config);
  const clientId = config.discord.clientId;
  if (!clientId) {
    throw new ConfigError('DISCORD_CLIENT_ID is not set: copy the Application ID from the Developer Portal into .env.');
  }
  const commands = [...(await loadCommands()).values()].map((command) => command.data.toJSON());
  const rest = new REST(config.discord.apiUrl ? { api: config.discord.apiUrl } : {}).setToken(token);
  const guildId = config.discord.devGuildId;
  const route = guildId ? Routes.applicationGuildCommands(clientId, guildId) : Routes.applicationCommands(clientId);
  await rest.put(route, { body: commands });
  logger.info({ count: commands.length, scope: guildId ? `guild ${guildId}` : 'global' }, 'slash commands registered');
}

main().catch(exitWith);
