import type { MikroORM } from '@mikro-orm/postgresql';
import type { Actor } from '../core/identity.js';
import { Conversation, Guild, User, type IConversation, type IGuild, type IUser } from '../db/entities/index.js';
import type { Logger } from '../logger.js';
import type { ReplyDrafts } from '../queue/drafts.js';
import type { Locks } from '../queue/lock.js';
import type { JobContext, JobQueue } from '../queue/job-queue.js';
import { DraftSinks } from './draft-sinks.js';
import type { ReplyJob, Responder, SinkFactory } from './responder.js';

export const REPLY_QUEUE = 'reply';

/** A reply job waiting for its conversation's lock tries again after this long, doubling to at most 2 s. */
const LOCK_RETRY_MS = 100;
const LOCK_RETRY_MAX_MS = 2000;
/** Tries of a reply job; one that throws (the database went away mid-reply) runs again. */
const REPLY_ATTEMPTS = 3;

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
  /** Where replies note the messages they posted, so one a dead worker left half-written is taken over. */
  drafts?: ReplyDrafts;
}

/** While the queue is unreachable (Redis restarting), adding a reply job is tried again this long before giving up. */
const DISPATCH_PATIENCE_MS = 60_000;

/**
 * Queues the reply to a message; what `Responder` calls with `dispatch`. The
 * message is already stored and Discord will not deliver it again, so a
 * queue that refuses (Redis down: adding fails fast) is tried again, up to
 * a minute, rather than leaving the message unanswered. The job id is the
 * message's, so a try that did reach Redis is not queued twice.
 */
export function dispatchReplies(queue: JobQueue, options: { patienceMs?: number } = {}): (job: ReplyJob) => Promise<void> {
  const patienceMs = options.patienceMs ?? DISPATCH_PATIENCE_MS;
  return async (job) => {
    const jobId = `message:${job.conversationId}:${job.messageAt}`;
    const deadline = Date.now() + patienceMs;
    for (let tries = 1; ; tries += 1) {
      try {
        await queue.add(REPLY_QUEUE, job, { jobId, attempts: REPLY_ATTEMPTS, backoffMs: 2000 });
        return;
      } catch (error) {
        if (Date.now() >= deadline || (error instanceof Error && error.message === 'The job queue is closed.')) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(LOCK_RETRY_MAX_MS, LOCK_RETRY_MS * 2 ** Math.min(tries, 5))));
      }
    }
  };
}

/**
 * The reply job, for any number of processes: one reply at a time per
 * conversation (a lock shared through Redis), in order, and each message
 * answered once. A job whose message a reply has already seen (it arrived
 * while another reply was being written, which then answered both) ends
 * without writing; a job that finds the conversation busy is queued again a
 * moment later. A worker killed mid-reply leaves its job to be run again
 * once its lock runs out, and its half-written messages as the
 * conversation's draft, which the next reply there takes over.
 */
export function replyJobHandler(deps: ReplyWorkerDeps) {
  return async (
    data: ReplyJob & { waits?: number },
    context: JobContext,
  ): Promise<{ outcome: 'replied' | 'answered' | 'busy' | 'gone' }> => {
    const release = await deps.locks.tryAcquire(`conversation:${data.conversationId}`, deps.lockTtlMs ?? 30_000);
    if (!release) {
      const waits = (data.waits ?? 0) + 1;
      const delayMs = Math.min(LOCK_RETRY_MAX_MS, LOCK_RETRY_MS * 2 ** Math.min(waits, 5));
      await deps.queue.add(REPLY_QUEUE, { ...data, waits }, { delayMs, attempts: REPLY_ATTEMPTS, backoffMs: 2000 });
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
      // A draft a dead worker left is settled by whichever job gets the lock next, even one with nothing to answer.
      const left = await deps.drafts?.get(conversation.id);
      if (answered.length && !left) return { outcome: 'answered' };
      const sinks = new DraftSinks(
        await deps.sinksFor(conversation),
        deps.drafts && { store: deps.drafts, conversationId: conversation.id, left, logger: deps.logger },
      );
      try {
        if (answered.length) return { outcome: 'answered' };
        const actor = await actorOf(deps.orm, data.actor);
        if (!actor) return { outcome: 'gone' };
        context.signal.throwIfAborted();
        try {
          await deps.responder.reply(conversation.id, actor, sinks.factory, { em, conversation });
        } catch (error) {
          // A reply cut short (the database went away mid-reply): its half-written text must not stay looking
          // like a reply. The job runs again and writes it anew; after the last try, the error is all there is.
          const last = context.attempt >= REPLY_ATTEMPTS;
          await sinks.interrupt(
            last ? 'This reply could not be written. Send your message again to retry.' : 'Interrupted: writing this reply again…',
            last,
          );
          throw error;
        }
        return { outcome: 'replied' };
      } finally {
        await sinks.settleLeftDraft();
      }
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
