import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Character, Guild, Message, User, type IConversation, type IMessage } from '../db/entities/index.js';
import type { ModelResolver } from '../chat/responder.js';
import type { JobContext, JobQueue } from '../queue/job-queue.js';
import { exchangeOf, isMemoryPaused } from './memorize.js';
import { notesAbout, mergeNotes, type FoundNote } from './notes.js';
import { type NoteLine, notesRequest, parseNotes } from './notes-extract.js';
import { worthRemembering } from './worth.js';
import { speakerName } from '../core/speaker.js';
import { uuidArray } from '../core/uuid.js';

export const NOTES_QUEUE = 'notes';
/** How long after a reply note-taking runs, by default (NOTES_DELAY_MS). */
export const DEFAULT_NOTES_DELAY_MS = 30_000;

/** Finished exchanges read by one extraction, at most (older unread ones wait for the next job). */
const EXCHANGES_PER_RUN = 6;
/** Longest text of one line shown to the model. */
const LINE_CHARS = 600;

export interface NotesJob {
  replyId: string;
}

/**
 * Queues note-taking after a finished reply, `delayMs` later, so that one model call reads the exchanges of a
 * short burst together: the job takes every exchange of that person and character not read yet, so later jobs of
 * the burst find nothing to do, and one lost in a crash is made up by the next.
 */
export async function queueNotes(queue: JobQueue, reply: { id: string }, delayMs: number): Promise<void> {
  await queue.add<NotesJob>(NOTES_QUEUE, { replyId: reply.id }, { jobId: `notes-${reply.id}`, delayMs, attempts: 3, backoffMs: 10_000 });
}

/**
 * The notes job: reads the person's finished exchanges with the character in this conversation that no job has
 * read (the reply's metadata `notesRead` marks them), asks the summarize job's model (the one resolved for the
 * person and character) for new or changed facts about the person given the notes kept so far, and merges them.
 * Nothing is read while the conversation's memory is paused or the character's memory is off; exchanges that hold
 * nothing are marked read without a model call.
 */
export function notesHandler(deps: { orm: MikroORM; resolveModel: ModelResolver }) {
  return async (data: NotesJob, context: JobContext): Promise<{ notes: number }> => {
    const em = deps.orm.em.fork();
    const reply = (await em.findOne(
      Message,
      { id: data.replyId, role: 'assistant' },
      { populate: ['conversation', 'conversation.guild', 'character'] },
    )) as IMessage | null;
    const userId = (reply?.metadata as { answered?: string } | undefined)?.answered;
    if (!reply?.character || !userId) return { notes: 0 };
    const conversation = reply.conversation as IConversation;
    if (reply.character.config.memory_enabled === false || isMemoryPaused(conversation)) return { notes: 0 };
    const unread = await unreadReplies(em, conversation.id, reply.character.id, userId, reply.createdAt);
    if (!unread.length) return { notes: 0 };
    const lines: NoteLine[] = [];
    let solo = true;
    for (const each of unread) {
      const exchange = await exchangeOf(em, each);
      const people = new Set(exchange.filter((m) => m.role === 'user' && m.author).map((m) => m.author!.id));
      if (people.size > 1 || (people.size === 1 && !people.has(userId))) solo = false;
      for (const message of exchange) lines.push(lineOf(message, userId));
    }
    const own = lines.filter((line) => line.own);
    const replies = lines.filter((line) => !line.own && line.speaker === reply.character!.name).map((line) => line.text);
    const ids = unread.map((each) => each.id);
    if (
      !own.length ||
      !worthRemembering(
        own.map((line) => line.text),
        replies.join('\n'),
      )
    ) {
      await markRead(em, ids);
      return { notes: 0 };
    }
    const user = await em.findOne(User, userId);
    const character = await em.findOne(Character, reply.character.id);
    if (!user || !character) return { notes: 0 };
    const guild = conversation.guild ? await em.findOne(Guild, conversation.guild.id) : null;
    const resolved = await deps.resolveModel({ actor: { user, guild: guild ?? undefined, isGuildAdmin: false }, character });
    const existing = (await notesAbout(em, userId, character.id)).map((note) => note.content);
    const person = own.find((line) => !line.persona)?.speaker ?? user.username ?? 'the person';
    const stream = resolved.provider.stream({
      model: resolved.model,
      maxTokens: 500,
      temperature: 0.1,
      signal: context.signal,
      messages: notesRequest({ character: character.name, person, existing, lines }),
    });
    for await (const _delta of stream) {
      // Read whole; nothing is shown while it is written.
    }
    const answer = (await stream.result()).text;
    const found = parseNotes(answer).map((note) => sourced(note, lines));
    let added = 0;
    await em.transactional(async (tx) => {
      // The person may have forgotten or paused meanwhile: only exchanges still there count.
      const [state] = await tx.execute<{ paused: boolean }[]>(
        `select coalesce((settings->>'memoryPaused')::boolean, false) as paused from conversations where id = ? for update`,
        [conversation.id],
      );
      if (!state || state.paused) return;
      const still = new Set(
        (
          await tx.execute<{ id: string }[]>(`select id from messages where id = any(?::uuid[])`, [
            uuidArray(lines.map((l) => l.messageId)),
          ])
        ).map((row) => row.id),
      );
      const kept = found.filter((note) => note.messageIds.every((id) => still.has(id)));
      added = await mergeNotes(tx, { userId, characterId: character.id, conversationId: conversation.id, shared: solo }, kept);
      await markRead(tx, ids);
    });
    return { notes: added };
  };
}

/** The person's replies from this character in the conversation up to `until` that no notes job has read, oldest first. */
async function unreadReplies(
  em: EntityManager,
  conversationId: string,
  characterId: string,
  userId: string,
  until: Date,
): Promise<IMessage[]> {
  const rows = await em.execute<{ id: string }[]>(
    `select id from messages
      where conversation_id = ? and character_id = ? and role = 'assistant' and created_at <= ?
        and metadata->>'answered' = ?
        and coalesce((metadata->>'notesRead')::boolean, false) = false
        and coalesce((metadata->>'greeting')::boolean, false) = false
      order by created_at desc, id desc limit ${EXCHANGES_PER_RUN}`,
    [conversationId, characterId, until, userId],
  );
  if (!rows.length) return [];
  const replies = (await em.find(
    Message,
    { id: { $in: rows.map((row) => row.id) } },
    { orderBy: { createdAt: 'asc', id: 'asc' }, populate: ['conversation', 'character'] },
  )) as IMessage[];
  return replies;
}

async function markRead(em: EntityManager, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await em.execute(
    `update messages set metadata = coalesce(metadata, '{}'::jsonb) || '{"notesRead": true}'::jsonb where id = any(?::uuid[])`,
    [uuidArray(ids)],
    'run',
  );
}

function lineOf(message: IMessage, userId: string): NoteLine {
  const own = message.role === 'user' && message.author?.id === userId;
  const persona = own && (message.metadata as { persona?: { id?: string } }).persona?.id ? (message.authorName ?? undefined) : undefined;
  const text = message.content.trim();
  return {
    messageId: message.id,
    own,
    speaker: speakerName(message.role, message.character?.name, message.authorName),
    text: text.length > LINE_CHARS ? `${text.slice(0, LINE_CHARS)}…` : text,
    ...(persona ? { persona } : {}),
  };
}

/**
 * The messages a note came from (the lines the model named, else every line the person wrote) and the persona:
 * the one the person played on those lines when it was one and the same.
 */
function sourced(note: ReturnType<typeof parseNotes>[number], lines: NoteLine[]): FoundNote {
  const named = note.from.map((n) => lines[n - 1]).filter((line): line is NoteLine => Boolean(line));
  const from = named.length ? named : lines.filter((line) => line.own);
  const personas = new Set(from.filter((line) => line.own).map((line) => line.persona ?? ''));
  const persona = personas.size === 1 ? [...personas][0] || undefined : undefined;
  return { ...note, messageIds: [...new Set(from.map((line) => line.messageId))], ...(persona ? { persona } : {}) };
}
