/**
 * The memory bench's script: a long conversation between two regulars (Nell
 * and Tobias) and Wren, generated from a seed, in which twenty facts are
 * stated early and asked about, in other words, at least 200 turns later; and
 * four knowledge documents with ten facts buried in them, asked about in the
 * same late stretch. A turn is one message of a person and the character's
 * scripted reply.
 */
import { fillerExchange, probeReply } from './filler.js';
import { CHARACTER, CONVERSATION_FACTS, KNOWLEDGE_FACTS, PEOPLE, type PersonKey } from './facts.js';
import { writeDocuments, type KnowledgeDocument } from './documents.js';
import { Rng } from './random.js';

export { CHARACTER, PEOPLE };
export type { KnowledgeDocument, PersonKey };

export interface Fact {
  id: string;
  kind: 'conversation' | 'knowledge';
  /** The sentence as stated (in a message) or as written (in a document). */
  sentence: string;
  answer: string[];
  /** Conversation facts: the person who said it and the turn it was said in. */
  person?: PersonKey;
  turn?: number;
  /** Knowledge facts: the document it is buried in. */
  document?: string;
}

export interface Probe {
  id: string;
  factId: string;
  kind: Fact['kind'];
  question: string;
  answer: string[];
  person: PersonKey;
  turn: number;
  /** Content words the question shares with the fact sentence (stemmed as the hashing embedder does): its best hope. */
  sharedWords: string[];
}

export interface Turn {
  index: number;
  person: PersonKey;
  text: string;
  reply: string;
  factId?: string;
  probeId?: string;
}

export interface MemoryScript {
  seed: number;
  character: typeof CHARACTER;
  turns: Turn[];
  facts: Fact[];
  probes: Probe[];
  documents: KnowledgeDocument[];
}

export interface ScriptOptions {
  /** Turns in all (default 440). */
  turns?: number;
  /** Facts are stated within the first this many turns (default 75). */
  factsWithin?: number;
  /** Probes start at this turn (default 290); at least 200 turns after the last fact. */
  probesFrom?: number;
  /** Words per knowledge document, about (default 3000). */
  documentWords?: number;
}

export const DEFAULT_SEED = 7;

export function generateScript(seed = DEFAULT_SEED, options: ScriptOptions = {}): MemoryScript {
  const total = options.turns ?? 440;
  const factsWithin = options.factsWithin ?? 75;
  const probesFrom = options.probesFrom ?? 290;
  if (probesFrom - factsWithin < 200) throw new Error('Probes must come at least 200 turns after the facts.');
  const rng = new Rng(seed);
  const documents = writeDocuments(rng, options.documentWords ?? 3000);

  // Where each fact is said and each probe asked.
  const factTurns = pickTurns(rng, 2, factsWithin, CONVERSATION_FACTS.length, 2);
  const factOrder = rng.shuffle(CONVERSATION_FACTS);
  const questions = [
    ...CONVERSATION_FACTS.map((fact) => ({ ...fact, kind: 'conversation' as const })),
    ...KNOWLEDGE_FACTS.map((fact) => ({ ...fact, kind: 'knowledge' as const })),
  ];
  const probeTurns = pickTurns(rng, probesFrom, total - 2, questions.length, 3);
  const probeOrder = rng.shuffle(questions);

  const facts: Fact[] = [
    ...factOrder.map((fact, i) => ({
      id: fact.id,
      kind: 'conversation' as const,
      sentence: fact.sentence,
      answer: fact.answer,
      person: fact.person,
      turn: factTurns[i]!,
    })),
    ...KNOWLEDGE_FACTS.map((fact) => ({
      id: fact.id,
      kind: 'knowledge' as const,
      sentence: fact.sentence,
      answer: fact.answer,
      document: fact.document,
    })),
  ];
  const probes: Probe[] = probeOrder.map((question, i) => ({
    id: `probe-${question.id}`,
    factId: question.id,
    kind: question.kind,
    question: question.question,
    answer: question.answer,
    person: question.person,
    turn: probeTurns[i]!,
    sharedWords: sharedWords(question.question, question.sentence),
  }));

  const factAt = new Map(factOrder.map((fact, i) => [factTurns[i]!, fact]));
  const probeAt = new Map(probes.map((probe) => [probe.turn, probe]));
  const turns: Turn[] = [];
  for (let index = 0; index < total; index++) {
    const fact = factAt.get(index);
    const probe = probeAt.get(index);
    if (fact) {
      turns.push({ index, person: fact.person, text: `${fact.lead} ${fact.sentence} ${fact.tail}`, reply: fact.reply, factId: fact.id });
    } else if (probe) {
      turns.push({ index, person: probe.person, text: probe.question, reply: probeReply(rng), probeId: probe.id });
    } else {
      const exchange = fillerExchange(rng);
      turns.push({ index, person: rng.chance(0.65) ? 'nell' : 'tobias', ...exchange });
    }
  }
  return { seed, character: CHARACTER, turns, facts, probes, documents };
}

/** `count` distinct turns in [from, to], at least `gap` apart, ascending. */
function pickTurns(rng: Rng, from: number, to: number, count: number, gap: number): number[] {
  const slack = to - from - (count - 1) * gap;
  if (slack < 0) throw new Error(`Cannot place ${count} turns ${gap} apart in [${from}, ${to}].`);
  const offsets = Array.from({ length: count }, () => rng.int(0, slack)).sort((a, b) => a - b);
  return offsets.map((offset, i) => from + offset + i * gap);
}

const STOP_WORDS = new Set(
  'the a an and or but of to in on at for with is are was were be been it its this that what who which when where why how do does did not no so as by from if then than there here you your my me i im ive can cant again remind did told tell any anything is it that'.split(
    ' ',
  ),
);

function contentWords(text: string): Set<string> {
  const words =
    text
      .toLowerCase()
      .replace(/[’']/g, '')
      .match(/\p{L}+/gu) ?? [];
  return new Set(
    words.filter((word) => word.length > 2 && !STOP_WORDS.has(word)).map((word) => word.replace(/(ies|es|s|ing|ed|ic|y)$/u, '') || word),
  );
}

function sharedWords(question: string, sentence: string): string[] {
  const fact = contentWords(sentence);
  return [...contentWords(question)].filter((word) => fact.has(word));
}
