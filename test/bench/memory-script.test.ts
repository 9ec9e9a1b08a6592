import { describe, expect, it } from 'vitest';
import { generateScript } from '../../bench/memory/script.js';

describe('the memory bench script', () => {
  const script = generateScript(7);

  it('is the same for the same seed, and different for another', () => {
    expect(generateScript(7)).toEqual(script);
    expect(generateScript(8).turns.map((turn) => turn.text)).not.toEqual(script.turns.map((turn) => turn.text));
  });

  it('is a long conversation with varied filler', () => {
    expect(script.turns.length).toBeGreaterThanOrEqual(400);
    expect(script.turns.map((turn) => turn.index)).toEqual(script.turns.map((_, i) => i));
    const filler = script.turns.filter((turn) => !turn.factId && !turn.probeId).map((turn) => turn.text);
    expect(new Set(filler).size).toBeGreaterThan(filler.length * 0.8);
  });

  it('states every conversation fact, in its own words, before it is asked about at least 200 turns later', () => {
    const facts = script.facts.filter((fact) => fact.kind === 'conversation');
    expect(facts.length).toBeGreaterThanOrEqual(20);
    for (const fact of facts) {
      const stated = script.turns[fact.turn!]!;
      expect(stated.factId).toBe(fact.id);
      expect(stated.person).toBe(fact.person);
      expect(stated.text).toContain(fact.sentence);
      const probes = script.probes.filter((probe) => probe.factId === fact.id);
      expect(probes).toHaveLength(1);
      const probe = probes[0]!;
      expect(probe.turn - fact.turn!).toBeGreaterThanOrEqual(200);
      expect(script.turns[probe.turn]).toMatchObject({ probeId: probe.id, text: probe.question, person: fact.person });
      expect(probe.question).not.toContain(fact.sentence);
      // Said once: no other turn repeats the fact or gives the answer away.
      expect(script.turns.filter((turn) => turn.text.includes(fact.sentence))).toHaveLength(1);
    }
  });

  it('buries every knowledge fact once in its document, and asks about it late in the conversation', () => {
    const facts = script.facts.filter((fact) => fact.kind === 'knowledge');
    expect(facts.length).toBeGreaterThanOrEqual(10);
    for (const fact of facts) {
      const document = script.documents.find((d) => d.name === fact.document)!;
      expect(document.text.split(fact.sentence)).toHaveLength(2);
      const probe = script.probes.find((p) => p.factId === fact.id)!;
      expect(probe.turn).toBeGreaterThanOrEqual(200);
      expect(script.turns.some((turn) => turn.text.includes(fact.sentence))).toBe(false);
    }
    for (const document of script.documents) expect(document.words).toBeGreaterThan(2000);
  });

  it('labels each probe with answer keywords found in its fact', () => {
    for (const probe of script.probes) {
      const fact = script.facts.find((f) => f.id === probe.factId)!;
      expect(probe.answer.length).toBeGreaterThan(0);
      for (const answer of probe.answer) expect(fact.sentence.toLowerCase()).toContain(answer.toLowerCase());
    }
  });
});
