import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { Character, Conversation, Guild, Message, User, type IConversation, type IMessage } from '../db/entities/index.js';
import type { ModelResolver } from '../chat/responder.js';
import type { JobContext, JobQueue } from '../queue/job-queue.js';
import { speakerName } from '../core/speaker.js';

export const SUMMARIZE_QUEUE = 'summarize';

/** Older messages are summarised once at least this many have left the recent window. */
const SUMMARY_MIN_MESSAGES = 10;
/** Messages folded into the summary per model call. */
const SUMMARY_BATCH = 120;
export const SUMMARY_MAX_CHARS = 4000;

const summarySchema = z.object({
  text: z.string(),
  /** The newest message the summary covers, and when it was written. */
  upToId: z.string().nullish(),
  upToAt: z.string().nullish(),
  updatedAt: z.string(),
  /** Set when a person edited it. */
  editedBy: z.string().nullish(),
});
export type ConversationSummary = z.infer<typeof summarySchema>;

/** The running summary kept in conversations.settings.summary, if any. */
export function summaryOf(conversation: Pick<IConversation, 'settings'>): ConversationSummary | undefined {
  const parsed = summarySchema.safeParse((conversation.settings as { summary?: unknown }).summary);
  return parsed.success ? parsed.data : undefined;
}

export interface SummarizeJob {
  conversationId: string;
  /** Who answers in it (a scene's speaker), whose provider writes the summary. */
  characterId: string;
  /** The person being answered; their keys and server's providers resolve the model. */
  userId: string;
  guildId?: string;
  /** The oldest message still in the prompt: everything before it may be summarised. */
  windowStartId: string;
}

/**
 * conversations.settings.forgotten counts the deletions of the conversation's messages (forget, a deleted Discord
 * message, delete-my-data; each bumps it in its transaction, with the conversation row locked). A summary made from
 * messages read before a deletion is not stored: the deletion may have looked for it before it was there.
 */
export const BUMP_FORGOTTEN = `jsonb_build_object('forgotten', coalesce((settings->>'forgotten')::int, 0) + 1)`;

function forgottenCount(conversation: Pick<IConversation, 'settings'>): number {
  return Number((conversation.settings as { forgotten?: unknown }).forgotten) || 0;
}

/**
 * Queues a summary update after a reply whose prompt no longer holds the whole conversation. The job id names the
 * window and the summary as it stands (where it ends, and how many deletions the conversation has seen), so replies
 * sharing a window queue one job, and a summary dropped by forget or delete is written again for the same span: both
 * queues ignore a job id they have already run.
 */
export async function queueSummarize(queue: JobQueue, job: SummarizeJob, conversation: Pick<IConversation, 'settings'>): Promise<void> {
  const version = `${summaryOf(conversation)?.upToId ?? 'none'}-${forgottenCount(conversation)}`;
  await queue.add(SUMMARIZE_QUEUE, job, {
    jobId: `summarize-${job.conversationId}-${job.windowStartId}-${version}`,
    attempts: 3,
    backoffMs: 10_000,
  });
}

/**
 * The summarize job: folds the messages that left the recent window (and are
 * not yet in the summary) into the conversation's running summary with the
 * resolved provider, in batches. It runs in the background, never on the
 * reply path. When the summary changed meanwhile (a person edited it), the
 * job fails and its retry starts from the edited text; when messages were
 * deleted meanwhile, it starts again at once from what is left.
 */
export function summarizeHandler(deps: { orm: MikroORM; resolveModel: ModelResolver }) {
  return async (data: SummarizeJob, context: JobContext): Promise<{ summarized: number }> => {
    for (let tries = 1; ; tries++) {
      const outcome = await summarizeOnce(deps, data, context);
      if (outcome !== 'forgotten') return outcome;
      if (tries === 3) throw new Error('Messages kept being deleted while the summary was written.');
    }
  };
}

async function summarizeOnce(
  deps: { orm: MikroORM; resolveModel: ModelResolver },
  data: SummarizeJob,
  context: JobContext,
): Promise<{ summarized: number } | 'forgotten'> {
  const em = deps.orm.em.fork();
  const conversation = (await em.findOne(Conversation, data.conversationId)) as IConversation | null;
  const windowStart = await em.findOne(Message, { id: data.windowStartId, conversation: data.conversationId });
  const character = await em.findOne(Character, data.characterId);
  const user = await em.findOne(User, data.userId);
  if (!conversation || !windowStart || !character || !user) return { summarized: 0 };
  if ((conversation.settings as { memoryPaused?: boolean }).memoryPaused) return { summarized: 0 };
  const summary = summaryOf(conversation);
  const after = summary?.upToAt ? new Date(summary.upToAt) : undefined;
  const pending = await unsummarized(em, conversation.id, windowStart.createdAt, after, SUMMARY_BATCH);
  if (pending.length < SUMMARY_MIN_MESSAGES) return { summarized: 0 };
  const guild = data.guildId ? await em.findOne(Guild, data.guildId) : null;
  const resolved = await deps.resolveModel({ actor: { user, guild: guild ?? undefined, isGuildAdmin: false }, character });
  const stream = resolved.provider.stream({
    model: resolved.model,
    maxTokens: 600,
    temperature: 0.2,
    signal: context.signal,
    messages: [
      {
        role: 'system',
        content:
          'You keep the running summary of a long role-play conversation so it can continue without the old messages. ' +
          'Rewrite the summary to include the new messages. Keep every name, fact people stated about themselves, promise, ' +
          'relationship, place and unresolved thread; drop small talk. At most 300 words of plain prose, past tense. ' +
          'Write only the summary.',
      },
      {
        role: 'user',
        content: `Summary so far:\n${summary?.text.trim() || '(none yet)'}\n\nNew messages:\n${pending.map(line).join('\n')}`,
      },
    ],
  });
  for await (const _delta of stream) {
    // Read whole; nothing is shown while it is written.
  }
  const text = (await stream.result()).text.trim().slice(0, SUMMARY_MAX_CHARS);
  if (!text) throw new Error('The provider wrote an empty summary.');
  const last = pending.at(-1)!;
  const next: ConversationSummary = { text, upToId: last.id, upToAt: last.createdAt.toISOString(), updatedAt: new Date().toISOString() };
  const forgotten = forgottenCount(conversation);
  if (await saveSummary(em, conversation.id, next, summary?.updatedAt, forgotten)) return { summarized: pending.length };
  const [now] = await em.execute<{ settings: Record<string, unknown> }[]>('select settings from conversations where id = ?', [
    conversation.id,
  ]);
  if (now && forgottenCount(now) !== forgotten) return 'forgotten';
  throw new Error('The summary changed while it was being updated; trying again from the new text.');
}

/**
 * Stores a summary. With `expectedUpdatedAt`, only if the stored one is still
 * that version (undefined: there was none); with `expectedForgotten`, only if
 * no message was deleted since it was read. Returns whether it was stored.
 */
export async function saveSummary(
  em: EntityManager,
  conversationId: string,
  summary: ConversationSummary,
  expectedUpdatedAt?: string | null,
  expectedForgotten?: number,
): Promise<boolean> {
  let guard = expectedUpdatedAt === null ? '' : ` and (settings #>> '{summary,updatedAt}') is not distinct from ?`;
  const params: unknown[] = [JSON.stringify(summary), conversationId];
  if (expectedUpdatedAt !== null) params.push(expectedUpdatedAt ?? null);
  if (expectedForgotten !== undefined) {
    guard += ` and coalesce((settings->>'forgotten')::int, 0) = ?`;
    params.push(expectedForgotten);
  }
  const result = await em.execute<{ affectedRows: number }>(
    `update conversations set settings = jsonb_set(coalesce(settings, '{}'::jsonb), '{summary}', ?::jsonb), updated_at = now() where id = ?${guard}`,
    params,
    'run',
  );
  return result.affectedRows > 0;
}

/** Messages before `before` and after `after`, oldest first, at most `limit`. */
async function unsummarized(
  em: EntityManager,
  conversationId: string,
  before: Date,
  after: Date | undefined,
  limit: number,
): Promise<IMessage[]> {
  const rows = await em.find(
    Message,
    { conversation: conversationId, createdAt: after ? { $lt: before, $gt: after } : { $lt: before } },
    { orderBy: { createdAt: 'asc', id: 'asc' }, limit, populate: ['character'] },
  );
  return rows as IMessage[];
}

function line(message: IMessage): string {
  const speaker = speakerName(message.role, message.character?.name, message.authorName);
  const text = message.content.length > 1200 ? `${message.content.slice(0, 1200)}…` : message.content;
  return `${speaker}: ${text}`;
}
