import { pino, type Logger } from 'pino';

export type { Logger };

/** One root logger per process; handlers and jobs take `logger.child({ ... })`. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'dreamchat' },
      redact: {
        paths: ['apiKey', '*.apiKey', '*.*.apiKey', 'token', '*.token', 'authorization', '*.authorization'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
