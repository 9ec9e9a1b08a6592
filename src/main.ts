import { Status } from 'discord.js';
import { requireDiscordToken } from './config.js';
import { createDeps } from './deps.js';
import { startBot } from './discord/bot.js';
import { loadCommands } from './discord/load-commands.js';
import { dependencyChecks, startHealthServer } from './health.js';
import { exitWith, onShutdown, startProcess } from './process.js';
import { startWorkers } from './workers.js';

/** `npm start`: the Discord gateway plus the queue workers, in one process. */
async function main(): Promise<void> {
  const { config, logger } = startProcess('bot');
  const token = requireDiscordToken(config);
  const commands = await loadCommands();
  const deps = await createDeps(config, logger);
  await startWorkers(deps);
  const client = await startBot({ token, apiUrl: config.discord.apiUrl, commands, deps });
  const health = config.healthPort
    ? await startHealthServer({
        port: config.healthPort,
        logger,
        checks: {
          ...dependencyChecks(deps),
          discord: async () => {
            if (client.ws.status !== Status.Ready) throw new Error(`gateway status ${Status[client.ws.status]}`);
          },
        },
      })
    : undefined;
  onShutdown(logger, async () => {
    health?.close();
    await client.destroy();
    await deps.close();
  });
}

main().catch(exitWith);
