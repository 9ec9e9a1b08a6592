import type { EntityManager } from '@mikro-orm/postgresql';
import type { Embedder } from '../embeddings/embedder.js';
import type { ConversationMemoryMetadata } from '../memory/memorize.js';
import { searchExchanges } from '../memory/piece-search.js';
import { fuseRanks, searchText } from '../memory/text-search.js';
import { searchMemories, type MemoryHit, type MemoryScope } from '../memory/vector-store.js';
import type { HistoryEntry, MessageRef, PromptMemory } from './prompt.js';

/** How far a character's memories of a person reach beyond the current conversation. */
export const SHARED_MEMORY_SCOPES = ['off', 'server', 'everywhere'] as const;
export type SharedMemoryScope = (typeof SHARED_MEMORY_SCOPES)[number];

export interface SourceOptions {
  /** Candidates fetched from pgvector. */
  k: number;
  /** Hits less similar than this are left out (cosine similarity, -1..1). */
  minSimilarity: number;
}

/** Each source of memories has its own number of candidates and threshold; token budgets are the prompt's. */
export interface RetrievalOptions {
  /** The character's knowledge chunks. */
  knowledge: SourceOptions;
  /** Older exchanges of this conversation. */
  conversation: SourceOptions;
  /** Exchanges the character had with the same person in other conversations. */
  other: SourceOptions;
  /**
   * Full-text search beside the vectors, fused by reciprocal rank (default
   * true). A word match needs no similarity threshold: it shares a word.
   */
  fullText?: boolean;
}

/**
 * For neural embedders (MiniLM, OpenAI, Ollama models), whose related texts
 * score 0.3 and up. The candidate counts are generous: the prompt builder
 * takes them best first until each kind's share of the memory budget is
 * used, so the threshold (the relevance floor), not k, decides how much is
 * recalled (issue 15: a fixed k of 6 left most of a 5,700-token allowance unused).
 * An exchange is about 40 tokens, a knowledge chunk up to 384: 48 exchanges
 * fill the conversation share of an 8k context's allowance (bench/memory: with
 * 16, exchanges took 650 of the 1,700 tokens theirs, and the right one ranked
 * 13th to 20th was left out), 16 chunks the knowledge share.
 */
export const DEFAULT_RETRIEVAL: RetrievalOptions = {
  knowledge: { k: 16, minSimilarity: 0.2 },
  conversation: { k: 48, minSimilarity: 0.2 },
  other: { k: 8, minSimilarity: 0.3 },
};

/**
 * The hashing embedder only sees shared words: a right answer often scores
 * 0.1–0.2 (bench/memory), so its thresholds are lower.
 */
export const HASHING_RETRIEVAL: RetrievalOptions = {
  knowledge: { k: 16, minSimilarity: 0.08 },
  conversation: { k: 48, minSimilarity: 0.08 },
  other: { k: 8, minSimilarity: 0.12 },
};

/**
 * An exchange in which the people only asked holds at most what the character answered: its fused score counts
 * this much, so the exchange that told the fact comes first (bench/memory: "What does my father do?" answered
 * "let me think" outranked the exchange that said it, for every later question worded like it).
 */
const ASKED_WEIGHT = 0.5;

/** A word match ranked below this share of the best one's rank is noise (one common word shared). */
const WORD_RANK_FLOOR = 0.3;

export function defaultRetrieval(embedder: Pick<Embedder, 'id'>): RetrievalOptions {
  return embedder.id.startsWith('hashing') ? HASHING_RETRIEVAL : DEFAULT_RETRIEVAL;
}

export interface RecallInput {
  characterId: string;
  conversationId: string;
  recent: HistoryEntry[];
  /** The person being answered: their own words are searched with, and their memories of other conversations recalled. */
  userId?: string;
  /** The Discord server of this conversation ('' in direct messages), for the 'server' scope. */
  guildId?: string;
  /** The reply is read by the answered person alone (a DM, the terminal). */
  direct?: boolean;
  shared?: SharedMemoryScope;
  /** A scene character that joined late remembers this conversation only from here on. */
  since?: Date;
  options?: RetrievalOptions;
}

/**
 * What the character recalls before answering: knowledge chunks, older
 * exchanges of this conversation and, as configured, of its other
 * conversations with the same person, each searched near the latest messages
 * with its own threshold, best first within each kind. The prompt builder
 * decides what fits and drops what the recent messages already show.
 *
 * Memories of other conversations follow the privacy rule (README, "Memory"):
 * they are searched with the answered person's own words only, they are
 * exchanges that person had alone with the character, and they reach a
 * server channel only from public channels of the same server; a DM (read by
 * the person alone) gets them from DMs, or with 'everywhere' from anywhere.
 */
export async function recall(em: EntityManager, embedder: Embedder, input: RecallInput): Promise<PromptMemory[]> {
  const options = input.options ?? defaultRetrieval(embedder);
  const { own, context } = queriesOf(input.recent, input.userId);
  if (!context.trim()) return [];
  const texts = own && own !== context ? [context, own] : [context];
  const [contextEmbedding, ownEmbedding = own ? contextEmbedding : undefined] = await embedder.embed(texts);
  if (!contextEmbedding) return [];
  // Exchanges of the recent messages are fetched beside k others, not instead of them: the prompt builder drops those
  // its window shows and keeps the rest, since a long history is fetched whole but only its newest part fits a small
  // context (dropped here, an exchange 100 messages back was neither shown nor recalled at 8k).
  const recent = new Set(input.recent.map((entry) => entry.id));
  const isRecent = (hit: MemoryHit) => ((hit.metadata?.messageIds as string[] | undefined) ?? []).some((id) => recent.has(id));
  const fullText = options.fullText !== false;
  // Independent searches, each on its own fork (and so its own connection when the pool has several).
  const search = async (query: { embedding: number[]; text: string }, source: SourceOptions, scope: MemoryScope, spare = 0) => {
    if (source.k <= 0) return [];
    const k = source.k + spare;
    // Exchanges go by the nearer of their own vector and their nearest sentence (src/memory/pieces.ts).
    const [near, words] = await Promise.all([
      scope.memoryType === 'conversation'
        ? searchExchanges(em, query.embedding, scope, { k })
        : searchMemories(em.fork(), query.embedding, scope, { k }),
      fullText ? searchText(em.fork(), query.text, scope, { k, embedding: query.embedding }) : [],
    ]);
    const close = near.filter((hit) => hit.similarity >= source.minSimilarity);
    const best = words[0]?.rank ?? 0;
    const matched = words.filter((hit) => hit.rank >= best * WORD_RANK_FLOOR);
    const ranked = fuseRanks<MemoryHit>([close, matched])
      .map(({ item, score }) => ({
        item,
        score: item.memoryType === 'conversation' && onlyAsked(item.content) ? score * ASKED_WEIGHT : score,
      }))
      .sort((a, b) => b.score - a.score)
      .map(({ item }) => item);
    // The k best of the others, with the recent ones among them in their places.
    let others = 0;
    return ranked.filter((hit) => isRecent(hit) || others++ < source.k);
  };
  const contextQuery = { embedding: contextEmbedding, text: context };
  const shared = input.shared ?? 'server';
  const [knowledge, conversation, other] = await Promise.all([
    search(contextQuery, options.knowledge, { characterId: input.characterId, memoryType: 'character', withoutKeywordLore: true }),
    search(
      contextQuery,
      options.conversation,
      { conversationId: input.conversationId, memoryType: 'conversation', createdAfter: input.since },
      Math.ceil(input.recent.length / 2),
    ),
    shared !== 'off' && input.userId && ownEmbedding
      ? search({ embedding: ownEmbedding, text: own! }, options.other, {
          userId: input.userId,
          characterId: input.characterId,
          memoryType: 'conversation',
          excludeConversationId: input.conversationId,
          soloWith: input.userId,
          ...(input.direct ? (shared === 'server' ? { guildId: '' } : {}) : { publicChannelsOf: input.guildId ?? '' }),
        })
      : Promise.resolve([]),
  ]);
  return [
    ...knowledge.map((hit) => toMemory(hit, 'knowledge')),
    ...conversation.map((hit) => toMemory(hit, 'conversation')),
    ...other.map((hit) => toMemory(hit, 'other')),
  ];
}

/**
 * What to search with. `context`: what was said since a character last spoke
 * (the question being answered), at most the last two messages, with the
 * answered person's own latest words when those are older. Joining older
 * turns in made the query about the recent small talk, which the window
 * already holds (bench/memory: right memories ranked 150th and lower).
 * `own`: the answered person's words alone (at most their last two messages
 * since a character spoke, else their latest), so that someone else's message
 * cannot steer what is recalled of that person's other conversations. Without
 * authors (a history not read from the database), both are the same.
 */
export function queriesOf(recent: HistoryEntry[], userId?: string): { own?: string; context: string } {
  const turn: HistoryEntry[] = [];
  for (let i = recent.length - 1; i >= 0 && turn.length < 2; i--) {
    const entry = recent[i]!;
    if (entry.role === 'assistant' && turn.length) break;
    turn.unshift(entry);
  }
  const authored = recent.some((entry) => entry.authorId);
  if (!userId || !authored) {
    const context = turn.map((entry) => entry.content).join('\n');
    return { own: userId ? context : undefined, context };
  }
  const theirs = turn.filter((entry) => entry.role === 'user' && entry.authorId === userId);
  if (!theirs.length) {
    const latest = recent.findLast((entry) => entry.role === 'user' && entry.authorId === userId);
    if (latest) theirs.push(latest);
  }
  const own = theirs.map((entry) => entry.content).join('\n') || undefined;
  const lines = [...theirs.filter((entry) => !turn.includes(entry)), ...turn].map((entry) => entry.content);
  return { own, context: lines.join('\n') };
}

function toMemory(hit: MemoryHit, kind: PromptMemory['kind']): PromptMemory {
  const meta = (hit.metadata ?? {}) as Partial<ConversationMemoryMetadata> & { source?: string; page?: number; heading?: string };
  return {
    id: hit.id,
    kind,
    content: hit.content,
    score: hit.similarity,
    messageIds: meta.messageIds,
    knowledgeId: hit.knowledgeId ?? undefined,
    source:
      kind === 'knowledge'
        ? {
            label: [meta.source, meta.page ? `page ${meta.page}` : undefined, meta.heading].filter(Boolean).join(', ') || 'a document',
            // A web page's passages link to it; uploaded files have no lasting link (Discord's attachment links expire).
            url: meta.source && /^https?:\/\//.test(meta.source) ? meta.source : undefined,
          }
        : {
            label: meta.at ? `said ${meta.at.slice(0, 10)}` : 'an earlier exchange',
            jump: lastMessage(meta),
            userId: hit.userId ?? undefined,
          },
  };
}

/** The reply an exchange ended with (the Sources view links to it). */
function lastMessage(meta: Partial<ConversationMemoryMetadata>): MessageRef | undefined {
  const last = meta.discordMessageIds?.at(-1);
  if (!last || !meta.channelId) return undefined;
  return { ...(meta.guildId ? { guildId: meta.guildId } : {}), channelId: meta.channelId, messageId: last };
}

/** An exchange in which the people only asked: every sentence of every line before the reply is a question. */
export function onlyAsked(content: string): boolean {
  const lines = content.split('\n').filter((line) => line.trim());
  if (lines.length < 2) return false;
  return lines.slice(0, -1).every((line) =>
    line
      .replace(/^[^:\n]{1,80}:\s/, '')
      .trim()
      .split(/(?<=[.!?…])\s+/)
      .every((sentence) => /\?\W*$/.test(sentence)),
  );
}
