import type { EntityManager } from '@mikro-orm/postgresql';
import type { Embedder } from '../embeddings/embedder.js';
import { searchMemories, type MemoryHit } from '../memory/vector-store.js';
import type { HistoryEntry, PromptMemory } from './prompt.js';

export interface RetrievalOptions {
  /** Knowledge chunks to consider. */
  knowledgeK: number;
  /** Past-conversation memories to consider. */
  conversationK: number;
  /** Hits less similar than this are left out (cosine similarity, -1..1). */
  minSimilarity: number;
}

export const DEFAULT_RETRIEVAL: RetrievalOptions = { knowledgeK: 6, conversationK: 6, minSimilarity: 0.2 };

/**
 * What the character recalls before answering: its knowledge chunks and this
 * conversation's memories that are near the latest messages, best first.
 * Memories whose text is already in the recent history are not repeated.
 */
export async function recall(
  em: EntityManager,
  embedder: Embedder,
  input: { characterId: string; conversationId: string; recent: HistoryEntry[]; since?: Date; options?: RetrievalOptions },
): Promise<{ memories: PromptMemory[]; hits: MemoryHit[] }> {
  const options = input.options ?? DEFAULT_RETRIEVAL;
  const query = input.recent
    .slice(-3)
    .map((entry) => entry.content)
    .join('\n');
  if (!query.trim()) return { memories: [], hits: [] };
  const [embedding] = await embedder.embed([query]);
  if (!embedding) return { memories: [], hits: [] };
  // Two independent searches, each on its own fork (and so its own connection when the pool has several).
  const [knowledge, conversation] = await Promise.all([
    options.knowledgeK > 0
      ? searchMemories(em.fork(), embedding, { characterId: input.characterId, memoryType: 'character' }, { k: options.knowledgeK })
      : [],
    options.conversationK > 0
      ? searchMemories(em.fork(), embedding, { conversationId: input.conversationId, memoryType: 'conversation', createdAfter: input.since }, { k: options.conversationK })
      : [],
  ]);
  const seen = new Set(input.recent.map((entry) => normalize(entry.content)));
  const hits = [...knowledge, ...conversation]
    .filter((hit) => hit.similarity >= options.minSimilarity)
    .filter((hit) => !seen.has(normalize(hit.content)))
    .sort((a, b) => b.similarity - a.similarity);
  return {
    hits,
    memories: hits.map((hit) => ({
      id: hit.id,
      kind: hit.memoryType === 'character' ? 'knowledge' : 'conversation',
      content: hit.content,
      score: hit.similarity,
    })),
  };
}

function normalize(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}
