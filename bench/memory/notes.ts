/**
 * Notes about each person in the memory bench, and what of them can be measured honestly here.
 *
 * The bench's model is a fake server that gives scripted replies, so it cannot say how well a real model extracts
 * notes. What it can do is answer the note-taker's request as a perfect note-taker would: with the script's own
 * fact sentence, when a line it is shown states one. That measures the plumbing only: the notes job runs after the
 * exchanges, its answer is read and merged (repeats dropped, at most 20 per person), and the notes reach the prompt
 * of the person who asks, within their budget. It is never counted as facts in the prompt (that figure stays what
 * recall put there), and the output says which it is.
 */
import { countTokens } from '../../src/chat/tokens.js';
import type { RecordedRequest } from '../../test/fakes-llm/fake-server.js';
import { PEOPLE, type Fact, type MemoryScript, type Probe } from './script.js';

export const NOTES_CAVEAT =
  'plumbing only: a scripted note-taker answers with the script’s own fact sentences (a perfect extractor, not a ' +
  'model); this measures notes being kept and shown in the asker’s prompt within budget, not how well a model takes them';

/** The note-taker's request (src/memory/notes-extract.ts). */
export function isNotesRequest(request: RecordedRequest): boolean {
  return String(request.body?.messages?.[0]?.content ?? '').includes('notes about');
}

/**
 * What a perfect note-taker answers: each conversation fact whose sentence one of the numbered lines by the person
 * the notes are about states, as that sentence, from that line.
 */
export function scriptedNotes(script: MemoryScript, request: RecordedRequest): string {
  const messages = (request.body?.messages ?? []) as { content: string }[];
  const person = /notes about (.+?): short/.exec(messages[0]?.content ?? '')?.[1];
  const lines = (messages[1]?.content ?? '').split('\n');
  const notes: { note: string; from: number[] }[] = [];
  for (const fact of script.facts) {
    if (fact.kind !== 'conversation' || !fact.person || PEOPLE[fact.person].displayName !== person) continue;
    for (const line of lines) {
      const numbered = /^\[(\d+)\] ([^:]+): (.*)$/.exec(line);
      if (numbered && numbered[2] === person && numbered[3]!.includes(fact.sentence)) {
        notes.push({ note: fact.sentence, from: [Number(numbered[1])] });
        break;
      }
    }
  }
  return JSON.stringify(notes);
}

/** The notes part of a sent prompt (its own message, under "What <char> knows about <user>:"), or ''. */
export function notesPart(messages: { content: unknown }[]): string {
  return messages.map((message) => String(message.content ?? '')).find((content) => /^What .+ knows about .+:\n/.test(content)) ?? '';
}

export interface NoteProbe {
  probe: string;
  kind: Probe['kind'];
  /** The fact, as a note, was in the notes part of the prompt the asker's reply was written from. */
  noteInPrompt: boolean;
  notesTokens: number;
}

/** One probe's notes figures, from the prompt sent for it. */
export function noteProbe(probe: Probe, fact: Fact, messages: { content: unknown }[]): NoteProbe {
  const part = notesPart(messages);
  return { probe: probe.id, kind: probe.kind, noteInPrompt: part.includes(fact.sentence), notesTokens: part ? countTokens(part) : 0 };
}

/** Notes kept of the facts told, and how often the asked fact's note was in the asker's prompt (conversation probes). */
export function notesFigures(probes: NoteProbe[], keptNotes: string[], script: MemoryScript) {
  const told = script.facts.filter((fact) => fact.kind === 'conversation');
  const asked = probes.filter((probe) => probe.kind === 'conversation');
  const hits = asked.filter((probe) => probe.noteInPrompt).length;
  const tokens = asked.map((probe) => probe.notesTokens);
  return {
    measures: NOTES_CAVEAT,
    factsKeptAsNotes: `${told.filter((fact) => keptNotes.includes(fact.sentence)).length}/${told.length}`,
    notesKept: keptNotes.length,
    hitRate: asked.length ? Math.round((hits / asked.length) * 100) / 100 : 0,
    hits: `${hits}/${asked.length}`,
    notesTokensAtProbes: {
      mean: tokens.length ? Math.round(tokens.reduce((a, b) => a + b, 0) / tokens.length) : 0,
      max: Math.max(0, ...tokens),
    },
  };
}

/** The line the bench prints. */
export function notesLine(figures: ReturnType<typeof notesFigures>): string {
  return (
    `notes (${figures.measures}): facts kept as notes ${figures.factsKeptAsNotes}, note of the asked fact in the ` +
    `asker's prompt ${figures.hits} (${Math.round(figures.hitRate * 100)}%), notes tokens at probes mean ` +
    `${figures.notesTokensAtProbes.mean}, max ${figures.notesTokensAtProbes.max} (budget 300)`
  );
}
