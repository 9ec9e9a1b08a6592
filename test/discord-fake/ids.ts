import { randomBytes } from 'node:crypto';

const DISCORD_EPOCH = 1_420_070_400_000n;

/** Discord-style snowflakes: time-ordered, 19 digits today, unique per fake. */
export class Snowflakes {
  #last = 0n;

  next(at = Date.now()): string {
    let id = (BigInt(at) - DISCORD_EPOCH) << 22n;
    if (id <= this.#last) id = this.#last + 1n;
    this.#last = id;
    return id.toString();
  }
}

/** The creation time (ms since 1970) encoded in a snowflake. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

/** A random url-safe token, like the ones Discord hands out for webhooks and interactions. */
export function randomToken(bytes = 48): string {
  return randomBytes(bytes).toString('base64url');
}

/** A bot token in Discord's shape: base64(user id).timestamp.hmac. */
export function botToken(userId: string): string {
  return `${Buffer.from(userId).toString('base64url')}.${randomToken(4)}.${randomToken(27)}`;
}
