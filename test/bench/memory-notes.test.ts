import { describe, expect, it } from 'vitest';
import { noteProbe, notesFigures, notesLine, scriptedNotes } from '../../bench/memory/notes.js';
import { generateScript, PEOPLE } from '../../bench/memory/script.js';
import { notesRequest, parseNotes } from '../../src/memory/notes-extract.js';
import type { RecordedRequest } from '../fakes-llm/fake-server.js';

/** The memory bench's scripted note-taker, and that what it measures is labelled as plumbing, never as quality. */
const script = generateScript(7);
const asRequest = (messages: { content: string }[]) => ({ path: '/v1/chat/completions', body: { messages } }) as unknown as RecordedRequest;

describe('the memory bench’s notes', () => {
  it('answers the real note-taker’s request with the facts the person stated on the lines shown, and nothing else', () => {
    const nellFact = script.facts.find((fact) => fact.kind === 'conversation' && fact.person === 'nell')!;
    const tobiasFact = script.facts.find((fact) => fact.kind === 'conversation' && fact.person === 'tobias')!;
    const stated = script.turns[nellFact.turn!]!;
    const request = notesRequest({
      character: script.character.name,
      person: PEOPLE.nell.displayName,
      existing: [],
      lines: [
        { messageId: 'a', own: false, speaker: PEOPLE.tobias.displayName, text: script.turns[tobiasFact.turn!]!.text },
        { messageId: 'b', own: true, speaker: PEOPLE.nell.displayName, text: stated.text },
        { messageId: 'c', own: false, speaker: script.character.name, text: stated.reply },
      ],
    });
    const notes = parseNotes(scriptedNotes(script, asRequest(request)));
    // Tobias's fact is on a line of his: not a note about Nell.
    expect(notes).toEqual([{ content: nellFact.sentence, from: [2] }]);
    expect(
      parseNotes(
        scriptedNotes(script, asRequest(notesRequest({ ...request, character: 'Wren', person: 'Nell', existing: [], lines: [] }))),
      ),
    ).toEqual([]);
  });

  it('finds the note in the notes part of a sent prompt only, and says the figures measure plumbing, not a model', () => {
    const fact = script.facts.find((f) => f.kind === 'conversation')!;
    const probe = script.probes.find((p) => p.factId === fact.id)!;
    const hit = noteProbe(probe, fact, [{ content: 'Main.' }, { content: `What Wren knows about Nell:\n- ${fact.sentence}` }]);
    expect(hit).toMatchObject({ noteInPrompt: true });
    expect(hit.notesTokens).toBeGreaterThan(3);
    // The fact elsewhere in the prompt (a recalled memory) is not a note.
    const miss = noteProbe(probe, fact, [{ content: `Past events from earlier in this conversation:\n${fact.sentence}` }]);
    expect(miss).toEqual({ probe: probe.id, kind: 'conversation', noteInPrompt: false, notesTokens: 0 });
    const figures = notesFigures([hit, miss], [fact.sentence], script);
    expect(figures).toMatchObject({ hitRate: 0.5, hits: '1/2', notesKept: 1 });
    expect(figures.factsKeptAsNotes).toMatch(/^1\/\d+$/);
    expect(notesLine(figures)).toMatch(/^notes \(plumbing only: a scripted note-taker .* not how well a model takes them\)/);
  });
});
