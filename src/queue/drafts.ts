import { Redis } from 'ioredis';
import type { Speaker } from '../chat/reply-sink.js';

/** The Discord messages a reply in progress shows, and who speaks in them. */
export interface ReplyDraft {
  speaker: Speaker;
  messageIds: string[];
}

/**
 * Where a reply job notes the messages it has posted, per conversation,
 * before it finishes. A worker that dies mid-reply leaves its draft here;
 * the next reply in that conversation takes those messages over instead of
 * leaving them half-written. Redis when there is Redis, in-process otherwise.
 */
export interface ReplyDrafts {
  save(conversationId: string, draft: ReplyDraft): Promise<void>;
  get(conversationId: string): Promise<ReplyDraft | undefined>;
  clear(conversationId: string): Promise<void>;
  close(): Promise<void>;
}

/** A draft nobody took over within a day is not worth editing any more. */
const DRAFT_TTL_SECONDS = 24 * 60 * 60;

class RedisReplyDrafts implements ReplyDrafts {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(options: { url: string; prefix?: string }) {
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    this.#redis.on('error', () => {
      // Reported by the commands that fail; ioredis reconnects by itself.
    });
    this.#prefix = `${options.prefix ?? 'dreamchat'}:draft:`;
  }

  async save(conversationId: string, draft: ReplyDraft): Promise<void> {
    await this.#redis.set(this.#prefix + conversationId, JSON.stringify(draft), 'EX', DRAFT_TTL_SECONDS);
  }

  async get(conversationId: string): Promise<ReplyDraft | undefined> {
    const raw = await this.#redis.get(this.#prefix + conversationId);
    return raw ? (JSON.parse(raw) as ReplyDraft) : undefined;
  }

  async clear(conversationId: string): Promise<void> {
    await this.#redis.del(this.#prefix + conversationId);
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

export class MemoryReplyDrafts implements ReplyDrafts {
  readonly #drafts = new Map<string, ReplyDraft>();

  async save(conversationId: string, draft: ReplyDraft): Promise<void> {
    this.#drafts.set(conversationId, structuredClone(draft));
  }

  async get(conversationId: string): Promise<ReplyDraft | undefined> {
    return structuredClone(this.#drafts.get(conversationId));
  }

  async clear(conversationId: string): Promise<void> {
    this.#drafts.delete(conversationId);
  }

  async close(): Promise<void> {}
}

export function createReplyDrafts(options: { redisUrl?: string; prefix?: string }): ReplyDrafts {
  return options.redisUrl ? new RedisReplyDrafts({ url: options.redisUrl, prefix: options.prefix }) : new MemoryReplyDrafts();
}
