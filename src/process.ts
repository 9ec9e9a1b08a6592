import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';

/**
 * Shared start-up of the entry points: reads .env when present, parses the
 * configuration, and turns a bad configuration into one clear line and exit 1.
 */
export function startProcess(name: string): { config: Config; logger: Logger } {
  try {
    process.loadEnvFile();
  } catch {
    // No .env file: the environment alone is the configuration.
  }
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    exitWith(error);
  }
  const logger = createLogger(config.logLevel).child({ process: name });
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  return { config, logger };
}

/** Prints a configuration error plainly (no stack) and exits. */
export function exitWith(error: unknown): never {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
}

/** Runs `stop` once on SIGTERM or SIGINT, then exits; a second signal exits at once. */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing running jobs');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handle);
  process.once('SIGINT', handle);
}
