import type { EntityManager } from '@mikro-orm/postgresql';
import type { Embedder } from '../embeddings/embedder.js';
import type { ConversationMemoryMetadata } from '../memory/memorize.js';
import { searchMemories, type MemoryHit, type MemoryScope } from '../memory/vector-store.js';
import type { HistoryEntry, PromptMemory } from './prompt.js';

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
}

export const DEFAULT_RETRIEVAL: RetrievalOptions = {
  knowledge: { k: 6, minSimilarity: 0.2 },
  conversation: { k: 6, minSimilarity: 0.2 },
  other: { k: 4, minSimilarity: 0.3 },
};

export interface RecallInput {
  characterId: string;
  conversationId: string;
  recent: HistoryEntry[];
  /** The person being answered, for memories of other conversations with them. */
  userId?: string;
  /** The Discord server of this conversation ('' in direct messages), for the 'server' scope. */
  guildId?: string;
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
 */
export async function recall(em: EntityManager, embedder: Embedder, input: RecallInput): Promise<PromptMemory[]> {
  const options = input.options ?? DEFAULT_RETRIEVAL;
  const query = input.recent
    .slice(-3)
    .map((entry) => entry.content)
    .join('\n');
  if (!query.trim()) return [];
  const [embedding] = await embedder.embed([query]);
  if (!embedding) return [];
  const search = (source: SourceOptions, scope: MemoryScope) =>
    source.k > 0
      ? // Independent searches, each on its own fork (and so its own connection when the pool has several).
        searchMemories(em.fork(), embedding, scope, { k: source.k }).then((hits) =>
          hits.filter((hit) => hit.similarity >= source.minSimilarity),
        )
      : Promise.resolve([]);
  const shared = input.shared ?? 'server';
  const [knowledge, conversation, other] = await Promise.all([
    search(options.knowledge, { characterId: input.characterId, memoryType: 'character' }),
    search(options.conversation, { conversationId: input.conversationId, memoryType: 'conversation', createdAfter: input.since }),
    shared !== 'off' && input.userId
      ? search(options.other, {
          userId: input.userId,
          characterId: input.characterId,
          memoryType: 'conversation',
          excludeConversationId: input.conversationId,
          ...(shared === 'server' ? { guildId: input.guildId ?? '' } : {}),
        })
      : Promise.resolve([]),
  ]);
  return [
    ...knowledge.map((hit) => toMemory(hit, 'knowledge')),
    ...conversation.map((hit) => toMemory(hit, 'conversation')),
    ...other.map((hit) => toMemory(hit, 'other')),
  ];
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
        ? { label: [meta.source, meta.page ? `page ${meta.page}` : undefined, meta.heading].filter(Boolean).join(', ') || 'a document' }
        : { label: meta.at ? `said ${meta.at.slice(0, 10)}` : 'an earlier exchange', url: messageLink(meta), userId: hit.userId ?? undefined },
  };
}

/** A link to the reply an exchange ended with. */
function messageLink(meta: Partial<ConversationMemoryMetadata>): string | undefined {
  const last = meta.discordMessageIds?.at(-1);
  if (!last || !meta.channelId) return undefined;
  return `https://discord.com/channels/${meta.guildId ?? '@me'}/${meta.channelId}/${last}`;
}
