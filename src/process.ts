import type { DestinationStream } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';

/**
 * Shared start-up of the entry points: reads .env when present, parses the
 * configuration, and turns a bad configuration into one clear line and exit 1.
 * Logs go to standard output unless `logTo` says otherwise (the terminal
 * chat keeps them out of the conversation).
 */
export function startProcess(name: string, logTo?: DestinationStream): { config: Config; logger: Logger } {
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
  const logger = createLogger(config.logLevel, logTo).child({ process: name });
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

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits 0. When `stop` takes
 * longer than `graceMs`, the process exits 1 anyway: jobs still running are
 * left to be retried (BullMQ puts a job back once its worker's lock lapses;
 * the in-process queue's items are queued again at the next start). A second
 * signal exits at once. Returns whether shutdown has begun, for readiness.
 */
export function onShutdown(logger: Logger, graceMs: number, stop: () => Promise<void>): { stopping(): boolean } {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs }, 'shutting down: no new work; finishing running replies and jobs');
    const deadline = setTimeout(() => {
      logger.warn(
        { graceMs },
        'shutdown grace period over: exiting with work still running; queued jobs will be retried, by another worker or at the next start',
      );
      process.exit(1);
    }, graceMs);
    deadline.unref();
    stop().then(
      () => {
        logger.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
  return { stopping: () => stopping };
}
