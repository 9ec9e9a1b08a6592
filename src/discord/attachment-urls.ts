import type { REST } from '@discordjs/rest';
import { avatarVersion } from '../characters/avatars.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/** Discord's route that re-signs attachment URLs (up to 50 per call). */
const REFRESH_ROUTE = '/attachments/refresh-urls';
/** A signed URL this close to its expiry is refreshed before it is handed out (a webhook post may take a while). */
const MARGIN_MS = 10 * 60_000;

interface RefreshAnswer {
  refreshed_urls?: { original?: string; refreshed?: string }[];
}

/**
 * When a signed Discord attachment URL stops working: `ex`, Discord's expiry in hexadecimal unix seconds, when the URL
 * carries the `ex`, `is` and `hm` parameters of a signed attachment link (since December 2023); undefined for any
 * other URL (an avatar on another host does not expire).
 */
export function signedUrlExpiry(url: string): number | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!/^\/(?:ephemeral-)?attachments\/\d+\/\d+\//.test(parsed.pathname)) return undefined;
  const ex = parsed.searchParams.get('ex');
  if (!ex || !parsed.searchParams.has('is') || !parsed.searchParams.has('hm') || !/^[0-9a-f]+$/i.test(ex)) return undefined;
  return Number.parseInt(ex, 16) * 1000;
}

/**
 * Hands out attachment URLs that work now: a character's avatar is the Discord link of the card it came from, which
 * Discord signs for about a day. Past (or near) its expiry the link is re-signed through Discord's refresh endpoint,
 * and the fresh link is kept until its own expiry, so a busy channel asks Discord once a day, not once a reply.
 */
export class AttachmentUrls {
  readonly #rest: REST;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #fresh = new Map<string, { url: string; expiresAt: number }>();
  readonly #pending = new Map<string, Promise<string>>();
  readonly #publicAvatars?: PublicAvatars;

  constructor(options: { rest: REST; logger: Logger; now?: () => number; publicAvatars?: PublicAvatars }) {
    this.#rest = options.rest;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#publicAvatars = options.publicAvatars;
  }

  /**
   * A character's avatar link: with PUBLIC_URL, its stored picture as the bot serves it (never expires) when its own
   * link is Discord's signed one (or none); a link someone chose elsewhere is kept. Otherwise as usable().
   */
  async forCharacter(characterId: string, stored: string | null | undefined): Promise<string | undefined> {
    const publicAvatars = this.#publicAvatars;
    if (publicAvatars && (!stored || signedUrlExpiry(stored) !== undefined)) {
      const version = await avatarVersion(publicAvatars.dataDir, characterId).catch(() => undefined);
      if (version !== undefined) return `${publicAvatars.publicUrl}/avatars/${characterId}.png?v=${version}`;
    }
    return this.usable(stored);
  }

  /** `url` itself while it is good for a while, else its refreshed form; when Discord cannot refresh it, undefined. */
  async usable(url: string | null | undefined): Promise<string | undefined> {
    if (!url) return undefined;
    const expiry = signedUrlExpiry(url);
    if (expiry === undefined || expiry - this.#now() > MARGIN_MS) return url;
    const cached = this.#fresh.get(url);
    if (cached && cached.expiresAt - this.#now() > MARGIN_MS) return cached.url;
    let pending = this.#pending.get(url);
    if (!pending) {
      pending = this.#refresh(url).finally(() => this.#pending.delete(url));
      this.#pending.set(url, pending);
    }
    return pending.catch((error: unknown) => {
      // An expired link shows a broken picture; without one the webhook shows its default avatar.
      this.#logger.warn({ err: error, url: withoutSignature(url) }, 'could not refresh an attachment URL');
      return undefined;
    });
  }

  async #refresh(url: string): Promise<string> {
    const answer = (await this.#rest.post(REFRESH_ROUTE as `/${string}`, { body: { attachment_urls: [url] } })) as RefreshAnswer;
    const refreshed = answer.refreshed_urls?.find((entry) => entry.original === url)?.refreshed;
    const expiresAt = refreshed ? signedUrlExpiry(refreshed) : undefined;
    if (!refreshed || expiresAt === undefined || expiresAt <= this.#now()) {
      throw new Error('Discord did not refresh the attachment URL');
    }
    this.#fresh.set(url, { url: refreshed, expiresAt });
    return refreshed;
  }
}

/** PUBLIC_URL and DATA_DIR: where the bot serves the stored pictures (GET /avatars/<id>.png) and keeps them. */
export interface PublicAvatars {
  publicUrl: string;
  dataDir: string;
}

export function publicAvatarsOf(config: Config): PublicAvatars | undefined {
  return config.publicUrl ? { publicUrl: config.publicUrl, dataDir: config.database.dataDir } : undefined;
}

/** The URL without its signature, for logs. */
function withoutSignature(url: string): string {
  return url.split('?')[0] ?? url;
}
