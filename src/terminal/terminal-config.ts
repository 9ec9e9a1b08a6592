import { createHash } from 'node:crypto';
import type { Config } from '../config.js';

/**
 * The configuration the terminal chat runs with: the operator's own, except
 * that everything happens in this process. Its jobs (memorize, summarize,
 * notes, ingest) run on an in-process queue with its own workers, even when
 * REDIS_URL is set, so replies are written here rather than becoming Discord
 * reply jobs and memory work can be waited for; and the per-person reply
 * limits meant for Discord users do not throttle the operator's terminal.
 * With `waitMemory` (each line waits for its memory work) note-taking runs
 * right after each reply: its delay only gathers a burst of lines into one
 * model call, and there is no burst when every line waits.
 */
export function terminalConfig(config: Config, options: { waitMemory?: boolean } = {}): Config {
  return Object.freeze({
    ...config,
    ...(options.waitMemory ? { notesDelayMs: 0 } : {}),
    redis: Object.freeze({ ...config.redis, url: undefined }),
    repliesInQueue: false,
    usage: Object.freeze({
      ...config.usage,
      limits: Object.freeze({ userMessagesPerMinute: 0, userTokensPerDay: 0, serverMessagesPerMinute: 0, serverTokensPerDay: 0 }),
    }),
  });
}

/** Ids are kept in 20-character Discord snowflake columns. */
const ID_LENGTH = 20;

/** The terminal person's user id: `terminal-<name>`, or a hash of the name when that would not fit. */
export function terminalUserId(name: string): string {
  const plain = `terminal-${name}`;
  return plain.length <= ID_LENGTH ? plain : `terminal-${digest(name).slice(0, ID_LENGTH - 9)}`;
}

/** One terminal conversation per person and character: `--user Bob` does not continue Alice's chat. */
export function terminalChannelId(userId: string, characterId: string): string {
  return `term-${digest(`${userId}:${characterId}`).slice(0, ID_LENGTH - 5)}`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
