import { Status } from 'discord.js';
import { requireDiscordToken } from './config.js';
import { createDeps } from './deps.js';
import { startBot } from './discord/bot.js';
import { loadCommands } from './discord/load-commands.js';
import { acceptingCheck, dependencyChecks, startHealthServer } from './health.js';
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
  // On SIGTERM: the gateway goes first (no new messages or interactions), then scene rounds, replies and
  // running jobs finish. destroy() logs REST out too; the replies still being written need it, so it gets
  // the token back until the end.
  const shutdown = onShutdown(logger, config.shutdownGraceMs, async () => {
    await client.destroy();
    client.rest.setToken(token);
    await deps.close();
    health?.close();
  });
  // Under npm run start:shards each shard is a process: each gets its own health port (HEALTH_PORT + first shard id).
  const shard = Number(process.env.SHARDS?.split(',')[0] ?? 0) || 0;
  const health = config.healthPort
    ? await startHealthServer({
        host: config.healthHost,
        port: config.healthPort + shard,
        logger,
        metrics: deps.metrics,
        ...(config.publicUrl ? { avatarsFrom: config.database.dataDir } : {}),
        checks: {
          ...dependencyChecks(deps),
          discord: async () => {
            if (client.ws.status !== Status.Ready) throw new Error(`gateway status ${Status[client.ws.status]}`);
          },
          accepting: acceptingCheck(shutdown.stopping),
        },
      })
    : undefined;
}

main().catch(exitWith);
