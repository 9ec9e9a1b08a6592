import { createHmac, randomBytes } from 'node:crypto';

/** How long Discord signs an attachment link for: about a day. */
const ATTACHMENT_TTL_MS = 24 * 60 * 60_000;

/**
 * The fake's CDN signing, as Discord's since December 2023: an attachment link carries `ex` (expiry) and `is` (issue
 * time), both hexadecimal unix seconds, and `hm`, a signature over the path and both; the CDN refuses a link past
 * `ex` or with a wrong signature (404 "This content is no longer available."). Its clock is the test's to move:
 * `set(time)` makes now() read `time` from then on (still ticking), so a test uploads "a day ago" without waiting.
 */
export class FakeCdn {
  readonly #secret = randomBytes(32);
  readonly #ttlMs: number;
  #offsetMs = 0;

  constructor(ttlMs = ATTACHMENT_TTL_MS) {
    this.#ttlMs = ttlMs;
  }

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** The CDN's clock reads `time` now (and runs on from there). */
  set(time: number): void {
    this.#offsetMs = time - Date.now();
  }

  advance(ms: number): void {
    this.#offsetMs += ms;
  }

  /** Back to the real time. */
  reset(): void {
    this.#offsetMs = 0;
  }

  /** `url` (an attachment link without parameters) signed from now for a day. */
  sign(url: string): string {
    const parsed = new URL(url);
    const issued = Math.floor(this.now() / 1000);
    const is = issued.toString(16);
    const ex = (issued + Math.floor(this.#ttlMs / 1000)).toString(16);
    parsed.search = new URLSearchParams({ ex, is, hm: this.#mac(parsed.pathname, ex, is) }).toString();
    return parsed.toString();
  }

  /** Whether the CDN serves this link now. */
  serves(url: URL): boolean {
    const ex = url.searchParams.get('ex');
    const is = url.searchParams.get('is');
    const hm = url.searchParams.get('hm');
    if (!ex || !is || !hm || hm !== this.#mac(url.pathname, ex, is)) return false;
    return Number.parseInt(ex, 16) * 1000 > this.now();
  }

  #mac(path: string, ex: string, is: string): string {
    return createHmac('sha256', this.#secret).update(`${path}\n${ex}\n${is}`).digest('hex');
  }
}
