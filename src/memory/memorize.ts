import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Message, type IConversation, type IMessage } from '../db/entities/index.js';
import type { Embedder } from '../embeddings/embedder.js';
import type { JobContext, JobQueue } from '../queue/job-queue.js';
import pgvector from 'pgvector';
import { insertPieces, piecesOf } from './pieces.js';
import { insertMemories } from './vector-store.js';
import { imagesOf, withImageNotes } from '../images/store.js';
import { worthRemembering } from './worth.js';
import { uuidArray } from '../core/uuid.js';

export const MEMORIZE_QUEUE = 'memorize';

/** Messages before a reply that belong to its exchange, at most. */
const EXCHANGE_MESSAGES = 8;
/** Longest text kept of one message in a memory. */
const MESSAGE_CHARS = 1500;
/** An earlier memory of the conversation this close (cosine distance) says the same: the new one takes its place. */
const DUPLICATE_DISTANCE = 0.03;

/** What a conversation memory keeps besides its text: where to find the original messages. */
export interface ConversationMemoryMetadata {
  /** The Discord server's id; absent in direct messages. */
  guildId?: string;
  /** The Discord channel or thread. */
  channelId: string;
  /** Stored message ids of the exchange, oldest first; the reply is last. */
  messageIds: string[];
  /** Their Discord message ids, for links. */
  discordMessageIds: string[];
  /** The people who spoke in the exchange. */
  userIds: string[];
  /** When the reply was written. */
  at: string;
  embedder: string;
  /** How many pieces (sentences) it was stored with; absent on memories made before pieces (reembed writes them). */
  pieces?: number;
}

/**
 * Queues the memory of a finished reply. The job reads the reply when it
 * runs, so the memory holds the alternative chosen last. Every change (a
 * regenerate, a swipe back to an earlier version) queues a new job: running
 * one twice only rewrites the same memory.
 */
export async function queueMemorize(queue: JobQueue, reply: { id: string }): Promise<void> {
  await queue.add(MEMORIZE_QUEUE, { replyId: reply.id }, { attempts: 5, backoffMs: 2000 });
}

/**
 * The memorize job: one finished exchange (the people's messages since the
 * character last spoke, and its reply) embedded as one conversation memory,
 * replacing any earlier memory of that reply. Nothing is kept when the reply
 * is gone, the character's memory is off or the conversation's is paused, nor
 * for an exchange that holds nothing (worthRemembering). An earlier memory of
 * the conversation that says the same is merged into the new one (its
 * messages are listed with it, so forgetting any of them forgets it).
 */
export function memorizeHandler(deps: { orm: MikroORM; embedder: Embedder }) {
  return async (data: { replyId: string }, context: JobContext): Promise<{ memorized: boolean }> => {
    // A message of the exchange deleted or rewritten while its memory was being made: made again from what is there.
    for (let tries = 1; ; tries++) {
      const em = deps.orm.em.fork();
      const reply = (await em.findOne(
        Message,
        { id: data.replyId, role: 'assistant' },
        {
          populate: ['conversation', 'conversation.guild', 'character'],
        },
      )) as IMessage | null;
      if (!reply?.character || (reply.metadata as { greeting?: boolean }).greeting) return { memorized: false };
      const conversation = reply.conversation as IConversation;
      if (reply.character.config.memory_enabled === false || isMemoryPaused(conversation)) return { memorized: false };
      const outcome = await memorizeExchange(em, deps.embedder, reply, conversation, context);
      if (outcome !== 'changed') return { memorized: outcome };
      if (tries === 3) throw new Error('The exchange kept changing while it was being memorized.');
    }
  };
}

/**
 * Makes and stores the memory of one exchange. 'changed' when a message of it was deleted meanwhile: the memory is
 * stored only after every message it quotes is locked and found still there, in the same transaction, and deletion
 * (history.ts, control.ts) deletes the messages before their memories, so one of the two always sees the other.
 */
async function memorizeExchange(
  em: EntityManager,
  embedder: Embedder,
  reply: IMessage,
  conversation: IConversation,
  context: JobContext,
): Promise<boolean | 'changed'> {
  const exchange = await exchangeOf(em, reply);
  const people = exchange.filter((message) => message.role === 'user' && message.author);
  // Pictures are remembered by their captions, like text ("[Alice shared an image: …]").
  const images = await imagesOf(
    em,
    exchange.filter((message) => message.role === 'user').map((message) => message.id),
  );
  if (
    !images.length &&
    !worthRemembering(
      people.map((message) => message.content),
      reply.content,
    )
  ) {
    // A new version that says nothing replaces a memory an earlier version left; the mark keeps it off requeueUnmemorized.
    await em.execute('delete from vector_memories where message_id = ?', [reply.id], 'run');
    await em.execute(
      `update messages set metadata = coalesce(metadata, '{}'::jsonb) || '{"notWorthRemembering": true}'::jsonb where id = ?`,
      [reply.id],
      'run',
    );
    return false;
  }
  const text = exchange
    .map((message) => {
      const own = images.filter((image) => image.messageId === message.id);
      return `${speakerOf(message)}: ${own.length ? withImageNotes(clip(message.content), speakerOf(message), own) : clip(message.content)}`;
    })
    .join('\n');
  // The exchange's own vector, and one per sentence (recall ranks the exchange by the nearer of them).
  const pieces = piecesOf(text);
  const [embedding, ...pieceEmbeddings] = await embedder.embed([text, ...pieces], context.signal);
  const metadata: ConversationMemoryMetadata = {
    ...(conversation.guild ? { guildId: conversation.guild.discordId } : {}),
    channelId: conversation.discordChannelId,
    messageIds: exchange.map((message) => message.id),
    discordMessageIds: exchange.flatMap(discordIdsOf),
    userIds: [...new Set(people.map((message) => message.author!.id))],
    at: reply.createdAt.toISOString(),
    embedder: embedder.id,
    pieces: pieces.length,
  };
  let stored: boolean | 'changed' = false;
  await em.transactional(async (tx) => {
    // Locked until the memory is stored: a deletion waits for it, then deletes the memory too.
    const ids = exchange.map((message) => message.id);
    const still = await tx.execute<{ id: string; content: string }[]>(
      'select id, content from messages where id = any(?::uuid[]) order by id for update',
      [uuidArray(ids)],
    );
    // The reply gone (forgotten, deleted): nothing to remember. Another message gone, or one rewritten (an edit,
    // delete-my-data blanking out someone's words): the exchange is read again.
    if (!still.some((row) => row.id === reply.id)) return;
    const read = new Map(exchange.map((message) => [message.id, message.content]));
    if (still.length < ids.length || still.some((row) => row.content !== read.get(row.id))) {
      stored = 'changed';
      return;
    }
    await tx.execute('delete from vector_memories where message_id = ?', [reply.id], 'run');
    const duplicates = await tx.execute<{ id: string; metadata: Partial<ConversationMemoryMetadata> | null }[]>(
      `delete from vector_memories where id in (
           select id from vector_memories
            where conversation_id = ? and memory_type = 'conversation' and (embedding <=> ?) < ${DUPLICATE_DISTANCE}
            limit 20)
         returning id, metadata`,
      [conversation.id, pgvector.toSql(embedding!)],
    );
    for (const { metadata: older } of duplicates) {
      metadata.messageIds = union(older?.messageIds, metadata.messageIds);
      metadata.discordMessageIds = union(older?.discordMessageIds, metadata.discordMessageIds);
      metadata.userIds = union(older?.userIds, metadata.userIds);
    }
    const [memoryId] = await insertMemories(tx, [
      {
        content: text,
        embedding: embedding!,
        memoryType: 'conversation',
        conversationId: conversation.id,
        characterId: reply.character!.id,
        // The person the reply answered (older replies: the last person who spoke); the others are in userIds.
        userId: (reply.metadata as { answered?: string }).answered ?? people.at(-1)?.author?.id,
        messageId: reply.id,
        metadata: metadata as unknown as Record<string, unknown>,
      },
    ]);
    await insertPieces(
      tx,
      memoryId!,
      pieces.map((content, i) => ({ content, embedding: pieceEmbeddings[i]! })),
    );
    stored = true;
  });
  return stored;
}

/** The items of both lists, each once, older first. */
function union(older: string[] | undefined, newer: string[]): string[] {
  return [...new Set([...(older ?? []), ...newer])];
}

/**
 * Queues again the replies of the last day that have no memory yet: jobs an
 * in-process queue lost in a crash, or that failed while the database was
 * away. Harmless when they are still queued: the job only rewrites a memory.
 */
export async function requeueUnmemorized(em: EntityManager, queue: JobQueue, limit = 500): Promise<number> {
  const rows = await em.execute<{ id: string }[]>(
    `select m.id from messages m
       join characters c on c.id = m.character_id
       join conversations cv on cv.id = m.conversation_id
      where m.role = 'assistant' and m.created_at > now() - interval '1 day'
        and coalesce((m.metadata->>'greeting')::boolean, false) = false
        and coalesce((m.metadata->>'notWorthRemembering')::boolean, false) = false
        and coalesce((c.config->>'memory_enabled')::boolean, true)
        and coalesce((cv.settings->>'memoryPaused')::boolean, false) = false
        and not exists (select 1 from vector_memories v where v.message_id = m.id)
      order by m.created_at limit ${Math.trunc(limit)}`,
  );
  for (const row of rows) await queueMemorize(queue, row);
  return rows.length;
}

export function isMemoryPaused(conversation: Pick<IConversation, 'settings'>): boolean {
  return (conversation.settings as { memoryPaused?: boolean }).memoryPaused === true;
}

/** The reply and the messages since its character last spoke (at most EXCHANGE_MESSAGES), oldest first. */
export async function exchangeOf(em: EntityManager, reply: IMessage): Promise<IMessage[]> {
  const before = (await em.find(
    Message,
    { conversation: reply.conversation.id, createdAt: { $lte: reply.createdAt }, id: { $ne: reply.id } },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: EXCHANGE_MESSAGES, populate: ['character', 'author'] },
  )) as IMessage[];
  const exchange: IMessage[] = [];
  for (const message of before) {
    if (message.role === 'assistant' && message.character?.id === reply.character?.id) break;
    exchange.unshift(message);
  }
  return [...exchange, reply];
}

function speakerOf(message: IMessage): string {
  if (message.role === 'assistant') return message.character?.name ?? 'Character';
  return message.authorName ?? 'Someone';
}

function discordIdsOf(message: IMessage): string[] {
  const ids = (message.metadata as { discordMessageIds?: string[] }).discordMessageIds;
  return ids?.length ? ids : message.discordMessageId ? [message.discordMessageId] : [];
}

function clip(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MESSAGE_CHARS ? `${trimmed.slice(0, MESSAGE_CHARS)}…` : trimmed;
}
