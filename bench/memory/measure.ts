/**
 * Scoring for the memory bench: where the right memory ranks for each probe,
 * whether the default recall and the prompt deliver it, and the summaries
 * and table printed at the end.
 */
import type { PromptMemory } from '../../src/chat/prompt.js';
import type { Embedder } from '../../src/embeddings/embedder.js';
import { percentile } from '../stats.js';
import type { Fact, Probe } from './script.js';
import type { Diagnosis } from './why.js';

const KS = [1, 3, 5, 10] as const;

/**
 * How the query is built: as recall() builds it (what people said since the character last spoke), the
 * probe alone, or both embedded and mixed, the latest message weighing
 * LATEST_WEIGHT (a possible fix).
 */
const QUERIES = ['last3', 'probe', 'weighted'] as const;
const LATEST_WEIGHT = 0.7;
export type QueryKind = (typeof QUERIES)[number];

export interface Ranking {
  /** 1-based rank of the right memory among every memory of its kind; null when absent. */
  rank: number | null;
  /** The same, not counting conversation memories whose messages are in the prompt's recent window. */
  rankOutsideWindow: number | null;
  similarity: number | null;
}

export interface ProbeResult {
  probe: string;
  kind: Probe['kind'];
  /** Content words the question shares with the fact sentence. */
  sharedWords: string[];
  /** Rank with the query recall builds (the people's latest turn). */
  rank: number | null;
  similarity: number | null;
  /** Best similarity of any memory of that kind (what the right one competes with). */
  topSimilarity: number;
  rankings: Record<QueryKind, Ranking>;
  /** Conversation memories the default recall returned whose messages are in the recent window (buildPrompt drops them). */
  defaultHitsInWindow: number;
  /** The default recall (DEFAULT_RETRIEVAL) returned the right memory. */
  retrievedByDefault: boolean;
  /** The prompt built from it (8k context, 1024 out) contains the fact sentence. */
  factInPrompt: boolean;
  /** ... and every answer keyword. */
  answerInPrompt: boolean;
  /** The prompt the Responder really sent for the probe contains the fact sentence. */
  factInSentPrompt: boolean;
  promptTokens: number;
  memoryTokens: number;
  memoriesInPrompt: number;
  /** Why it missed, or what it took (bench/memory/why.ts). */
  why?: Diagnosis;
}

/** A memory is the right one when it holds the fact sentence and is of the fact's kind. */
function isRight(memory: PromptMemory, fact: Fact): boolean {
  return memory.kind === fact.kind && memory.content.includes(fact.sentence);
}

/** Where the right memory ranks among the memories of the fact's kind (best first). */
export function rankOf(memories: PromptMemory[], fact: Fact, windowIds: Set<string>): Ranking {
  const ofKind = memories.filter((memory) => memory.kind === fact.kind);
  const outside = ofKind.filter((memory) => !memory.messageIds?.some((id) => windowIds.has(id)));
  const index = ofKind.findIndex((memory) => isRight(memory, fact));
  const outsideIndex = outside.findIndex((memory) => isRight(memory, fact));
  return {
    rank: index < 0 ? null : index + 1,
    rankOutsideWindow: outsideIndex < 0 ? null : outsideIndex + 1,
    similarity: index < 0 ? null : round(ofKind[index]!.score ?? 0),
  };
}

/**
 * An embedder for recall's query only: the last line (recall joins the
 * recent messages with newlines) weighs `weight`, the whole text the rest.
 */
export function weightedQueryEmbedder(embedder: Embedder, weight = LATEST_WEIGHT): Embedder {
  return {
    id: embedder.id,
    dimension: embedder.dimension,
    async embed(texts: string[]) {
      const latest = texts.map((text) => text.split('\n').at(-1) ?? text);
      const [whole, last] = [await embedder.embed(texts), await embedder.embed(latest)];
      return whole.map((vector, i) => {
        const mixed = vector.map((value, j) => (1 - weight) * value + weight * last[i]![j]!);
        const norm = Math.hypot(...mixed) || 1;
        return mixed.map((value) => value / norm);
      });
    },
  };
}

/**
 * Share of probes whose right memory would reach the prompt's candidates with
 * `k` per kind and a threshold, for each way of building the query, counting
 * or skipping what the recent window shows.
 */
export function whatIf(results: ProbeResult[], k: number, thresholds: number[]) {
  const rows: Record<string, Record<string, number | null>> = {};
  for (const query of QUERIES) {
    for (const skipWindow of [false, true]) {
      rows[`${query}${skipWindow ? ', window skipped' : ''}`] = Object.fromEntries(
        thresholds.map((threshold) => [
          `min ${threshold}`,
          share(results, (item) => {
            const ranking = item.rankings[query];
            const rank = skipWindow ? ranking.rankOutsideWindow : ranking.rank;
            return rank !== null && rank <= k && (ranking.similarity ?? -1) >= threshold;
          }),
        ]),
      );
    }
  }
  return rows;
}

const share = (items: ProbeResult[], test: (item: ProbeResult) => boolean) =>
  items.length ? Math.round((items.filter(test).length / items.length) * 1000) / 1000 : null;

export function summarize(results: ProbeResult[], minSimilarity: Record<Probe['kind'], number>) {
  const atK = (pick: (item: ProbeResult) => number | null) =>
    Object.fromEntries(KS.map((k) => [`@${k}`, share(results, (item) => (pick(item) ?? Infinity) <= k)]));
  const sims = results.map((item) => item.similarity).filter((value): value is number => value !== null);
  return {
    probes: results.length,
    recall: atK((item) => item.rank),
    recallProbeOnly: atK((item) => item.rankings.probe.rank),
    recallWeighted: atK((item) => item.rankings.weighted.rank),
    recallSharingAWord: Object.fromEntries(
      KS.map((k) => [
        `@${k}`,
        share(
          results.filter((item) => item.sharedWords.length > 0),
          (item) => (item.rank ?? Infinity) <= k,
        ),
      ]),
    ),
    probesSharingAWord: results.filter((item) => item.sharedWords.length > 0).length,
    defaultHitsInWindowMean: round(results.reduce((sum, item) => sum + item.defaultHitsInWindow, 0) / (results.length || 1)),
    meanReciprocalRank: round(results.reduce((sum, item) => sum + (item.rank ? 1 / item.rank : 0), 0) / (results.length || 1)),
    rightSimilarityP50: sims.length ? percentile(sims, 50) : null,
    topSimilarityP50: percentile(
      results.map((item) => item.topSimilarity ?? 0),
      50,
    ),
    rightBelowThreshold: share(results, (item) => item.similarity === null || item.similarity < minSimilarity[item.kind]),
    retrievedByDefault: share(results, (item) => item.retrievedByDefault),
    factInPrompt: share(results, (item) => item.factInPrompt),
    answerInPrompt: share(results, (item) => item.answerInPrompt),
    factInSentPrompt: share(results, (item) => item.factInSentPrompt),
  };
}

export function tokenCost(values: number[]) {
  const mean = values.reduce((sum, value) => sum + value, 0) / (values.length || 1);
  return { mean: Math.round(mean), p50: percentile(values, 50), p95: percentile(values, 95), max: percentile(values, 100) };
}

export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The readable table: one row per kind of probe. */
export function table(label: string, byKind: Record<string, ReturnType<typeof summarize>>): string {
  const pct = (value: number | null | undefined) =>
    value === null || value === undefined ? '   -' : `${Math.round(value * 100)}%`.padStart(4);
  const header = [
    'probes',
    'kind',
    ...KS.map((k) => `R@${k}`),
    ...KS.map((k) => `alone@${k}`),
    'weighted@5',
    'weighted@10',
    'MRR',
    'sim',
    '<thr',
    'dflt',
    'prompt',
  ];
  const rows = Object.entries(byKind).map(([kind, s]) => [
    String(s.probes),
    kind,
    ...KS.map((k) => pct(s.recall[`@${k}`])),
    ...KS.map((k) => pct(s.recallProbeOnly[`@${k}`])),
    pct(s.recallWeighted['@5']),
    pct(s.recallWeighted['@10']),
    s.meanReciprocalRank.toFixed(2),
    s.rightSimilarityP50?.toFixed(2) ?? '-',
    pct(s.rightBelowThreshold),
    pct(s.retrievedByDefault),
    pct(s.factInPrompt),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i]!)).join('  ');
  return [`${label}`, line(header), ...rows.map(line)].join('\n');
}

export const TABLE_LEGEND =
  'R@k: right memory in the top k of its kind, query as recall() builds it (the people’s latest turn); alone@k: query = the probe only; weighted@k: probe and last 3 messages embedded apart and mixed 0.7/0.3; ' +
  'MRR: mean reciprocal rank (R@k query); sim: median similarity of the right memory; <thr: right memory below the embedder’s default threshold; ' +
  'dflt: returned by recall with the embedder’s default options; prompt: fact sentence in the prompt buildPrompt makes from it (8k context, 1024 out).';
