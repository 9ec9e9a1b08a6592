import type { MikroORM } from '@mikro-orm/postgresql';
import type { Actor } from '../core/identity.js';
import { Conversation, Guild, User, type IConversation, type IGuild, type IUser } from '../db/entities/index.js';
import type { Logger } from '../logger.js';
import type { Locks } from '../queue/lock.js';
import type { JobContext, JobQueue } from '../queue/job-queue.js';
import type { ReplyJob, Responder, SinkFactory } from './responder.js';

export const REPLY_QUEUE = 'reply';

/** A reply job waiting for its conversation's lock tries again after this long, doubling to at most 2 s. */
const LOCK_RETRY_MS = 100;
const LOCK_RETRY_MAX_MS = 2000;

export interface ReplyWorkerDeps {
  orm: MikroORM;
  responder: Responder;
  locks: Locks;
  queue: JobQueue;
  /** Where replies in this conversation are posted (the Discord channel, through REST). */
  sinksFor: (conversation: IConversation) => Promise<SinkFactory>;
  logger: Logger;
  /** How long a conversation's lock lasts without renewal (a dead worker's lock runs out then). */
  lockTtlMs?: number;
}

/** Queues the reply to a message; what `Responder` calls with `dispatch`. */
export function dispatchReplies(queue: JobQueue): (job: ReplyJob) => Promise<void> {
  return async (job) => {
    await queue.add(REPLY_QUEUE, job, { attempts: 3, backoffMs: 2000 });
  };
}

/**
 * The reply job, for any number of processes: one reply at a time per
 * conversation (a lock shared through Redis), in order, and each message
 * answered once. A job whose message a reply has already seen (it arrived
 * while another reply was being written, which then answered both) ends
 * without writing; a job that finds the conversation busy is queued again a
 * moment later. A worker killed mid-reply leaves its job to be run again
 * once its lock runs out.
 */
export function replyJobHandler(deps: ReplyWorkerDeps) {
  return async (data: ReplyJob & { waits?: number }, context: JobContext): Promise<{ outcome: 'replied' | 'answered' | 'busy' | 'gone' }> => {
    const release = await deps.locks.tryAcquire(`conversation:${data.conversationId}`, deps.lockTtlMs ?? 30_000);
    if (!release) {
      const waits = (data.waits ?? 0) + 1;
      const delayMs = Math.min(LOCK_RETRY_MAX_MS, LOCK_RETRY_MS * 2 ** Math.min(waits, 5));
      await deps.queue.add(REPLY_QUEUE, { ...data, waits }, { delayMs, attempts: 3, backoffMs: 2000 });
      return { outcome: 'busy' };
    }
    try {
      const em = deps.orm.em.fork();
      const conversation = (await em.findOne(Conversation, data.conversationId, { populate: ['character'] })) as IConversation | null;
      if (!conversation?.character) return { outcome: 'gone' };
      const answered = await em.execute<{ id: string }[]>(
        `select id from messages where conversation_id = ? and role = 'assistant'
            and (metadata->>'answeredUpTo')::timestamptz >= ?::timestamptz limit 1`,
        [conversation.id, data.messageAt],
      );
      if (answered.length) return { outcome: 'answered' };
      const actor = await actorOf(deps.orm, data.actor);
      if (!actor) return { outcome: 'gone' };
      context.signal.throwIfAborted();
      await deps.responder.reply(conversation.id, actor, await deps.sinksFor(conversation), { em, conversation });
      return { outcome: 'replied' };
    } finally {
      await release();
    }
  };
}

async function actorOf(orm: MikroORM, ref: ReplyJob['actor']): Promise<Actor | undefined> {
  const em = orm.em.fork();
  const user = (await em.findOne(User, ref.userId)) as IUser | null;
  if (!user) return undefined;
  const guild = ref.guildId ? ((await em.findOne(Guild, ref.guildId)) as IGuild | null) : null;
  return { user, guild: guild ?? undefined, isGuildAdmin: ref.isGuildAdmin };
}
