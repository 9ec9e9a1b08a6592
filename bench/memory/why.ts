/**
 * Why a probe missed: whether its fact was memorized at all, where the right
 * memory ranks by vector alone and by words alone, what recall searched with,
 * and what took the prompt's memory budget instead.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { BuiltPrompt, HistoryEntry, PromptMemory } from '../../src/chat/prompt.js';
import { queriesOf } from '../../src/chat/retrieval.js';
import { countTokens } from '../../src/chat/tokens.js';
import type { Embedder } from '../../src/embeddings/embedder.js';
import { searchExchanges } from '../../src/memory/piece-search.js';
import { searchText } from '../../src/memory/text-search.js';
import { searchMemories, type MemoryHit, type MemoryScope } from '../../src/memory/vector-store.js';
import type { Fact } from './script.js';

export interface Diagnosis {
  /** The text recall searched with. */
  query: string;
  /** Memories of the fact's kind that hold its sentence. */
  memorized: number;
  /** Rank of the right memory by cosine similarity alone, and its similarity. */
  vectorRank: number | null;
  vectorSimilarity: number | null;
  /** Conversation facts: rank of the right memory by the nearer of its own vector and its nearest sentence (piece). */
  pieceRank: number | null;
  /** Rank of the right memory by full-text search alone (null: no word in common). */
  textRank: number | null;
  /** Rank in what recall returned with the default options (null: not returned). */
  recalledRank: number | null;
  /** Memories in the prompt by kind, and their tokens (with the headings). */
  inPrompt: Record<string, { count: number; tokens: number }>;
  /** The first memories of the fact's kind in the prompt (start of their text). */
  promptTop: string[];
}

export async function diagnose(
  em: EntityManager,
  embedder: Embedder,
  input: {
    fact: Fact;
    history: HistoryEntry[];
    userId?: string;
    characterId: string;
    conversationId: string;
    recalled: PromptMemory[];
    built: Pick<BuiltPrompt, 'memories' | 'parts'>;
  },
): Promise<Diagnosis> {
  const { fact } = input;
  const { context } = queriesOf(input.history, input.userId);
  const [embedding] = await embedder.embed([context]);
  const scope: MemoryScope =
    fact.kind === 'knowledge'
      ? { characterId: input.characterId, memoryType: 'character' }
      : { conversationId: input.conversationId, memoryType: 'conversation' };
  const right = (hit: Pick<MemoryHit, 'content'>) => hit.content.includes(fact.sentence);
  const [near, byPieces, words, stored] = await Promise.all([
    searchMemories(em.fork(), embedding!, scope, { k: 2000, exactScanLimit: 1e9 }),
    fact.kind === 'conversation' ? searchExchanges(em, embedding!, scope, { k: 2000 }) : [],
    searchText(em.fork(), context, scope, { k: 2000 }),
    em.fork().execute<{ n: string }[]>(
      `select count(*) as n from vector_memories where ${fact.kind === 'knowledge' ? 'character_id' : 'conversation_id'} = ?
         and memory_type = ? and position(? in content) > 0`,
      [fact.kind === 'knowledge' ? input.characterId : input.conversationId, scope.memoryType, fact.sentence],
    ),
  ]);
  const rankIn = (list: Pick<MemoryHit, 'content'>[]) => {
    const index = list.findIndex(right);
    return index < 0 ? null : index + 1;
  };
  const vectorIndex = near.findIndex(right);
  const inPrompt: Diagnosis['inPrompt'] = {};
  for (const part of input.built.parts.filter((p) => p.section.startsWith('memories: '))) {
    const kind = part.section.slice('memories: '.length);
    inPrompt[kind] = { count: input.built.memories.filter((m) => m.kind === kind).length, tokens: part.tokens };
  }
  return {
    query: context,
    memorized: Number(stored[0]?.n ?? 0),
    vectorRank: vectorIndex < 0 ? null : vectorIndex + 1,
    vectorSimilarity: vectorIndex < 0 ? null : Math.round(near[vectorIndex]!.similarity * 1000) / 1000,
    pieceRank: fact.kind === 'conversation' ? rankIn(byPieces) : null,
    textRank: rankIn(words),
    recalledRank: rankIn(input.recalled.filter((memory) => memory.kind === fact.kind)),
    inPrompt,
    promptTop: input.built.memories
      .filter((memory) => memory.kind === fact.kind)
      .slice(0, 4)
      .map((memory) => `${memory.score?.toFixed(2)} ${memory.content.replace(/\s+/g, ' ').slice(0, 90)}`),
  };
}

/** One line per missed probe: what the evidence says. */
export function describeMiss(probe: string, d: Diagnosis, tokens: number): string {
  const kinds = Object.entries(d.inPrompt)
    .map(([kind, v]) => `${kind} ${v.count}/${v.tokens}t`)
    .join(', ');
  return [
    `✗ ${probe}: memorized ${d.memorized}, vector #${d.vectorRank ?? '-'} (${d.vectorSimilarity ?? '-'}), sentences #${d.pieceRank ?? '-'}, words #${d.textRank ?? '-'}, recalled #${d.recalledRank ?? '-'}; prompt ${tokens}t, memories: ${kinds}`,
    `    query: ${JSON.stringify(d.query.slice(0, 160))} (${countTokens(d.query)}t)`,
    ...d.promptTop.map((line) => `    · ${line}`),
  ].join('\n');
}
