import { describe, expect, it } from 'vitest';
import { chooseFollowUp, chooseSpeakers, namedIn, seededRandom, type Seat, type TurnInput } from '../../src/scenes/turns.js';

const seats: Seat[] = [
  { characterId: 'a', name: 'Aria', talkativeness: 0.5, muted: false },
  { characterId: 'b', name: 'Borin', aliases: ['the dwarf'], talkativeness: 0.5, muted: false },
  { characterId: 'c', name: 'Cass', talkativeness: 0.5, muted: false },
];

function input(overrides: Partial<TurnInput>): TurnInput {
  return {
    strategy: 'natural',
    seats,
    last: { content: 'Hello everyone.' },
    spokeSinceHuman: [],
    allowSelfResponses: false,
    random: seededRandom(7),
    ...overrides,
  };
}

describe('turn-taking', () => {
  it('finds names as whole words in any case, and aliases, in order of appearance', () => {
    expect(namedIn('CASS and the Dwarf, come here. Ariadne too.', seats).map((s) => s.characterId)).toEqual(['c', 'b']);
    expect(namedIn('Borinsson is not Borin’s son', seats).map((s) => s.characterId)).toEqual(['b']);
  });

  it('natural: the named character answers first; the rest roll their talkativeness', () => {
    const quiet = seats.map((seat) => ({ ...seat, talkativeness: 0 }));
    expect(chooseSpeakers(input({ seats: quiet, last: { content: 'Cass, what do you see?' } }))).toEqual(['c']);
    const chatty = seats.map((seat) => ({ ...seat, talkativeness: 1 }));
    expect(chooseSpeakers(input({ seats: chatty, last: { content: 'Cass, what do you see?' } }))).toEqual(['c', 'a', 'b']);
  });

  it('natural: when nobody is named or chosen, one character still answers, the same one for the same seed', () => {
    const quiet = seats.map((seat) => ({ ...seat, talkativeness: 0 }));
    const first = chooseSpeakers(input({ seats: quiet, random: seededRandom(42) }));
    expect(first).toHaveLength(1);
    expect(chooseSpeakers(input({ seats: quiet, random: seededRandom(42) }))).toEqual(first);
    const spread = new Set(Array.from({ length: 30 }, (_, seed) => chooseSpeakers(input({ seats: quiet, random: seededRandom(seed) }))[0]));
    expect(spread).toEqual(new Set(['a', 'b', 'c']));
  });

  it('a muted character never answers, even when named', () => {
    const muted = seats.map((seat) => (seat.characterId === 'b' ? { ...seat, muted: true, talkativeness: 1 } : seat));
    for (let seed = 0; seed < 50; seed++) {
      for (const strategy of ['natural', 'list', 'pooled'] as const) {
        expect(chooseSpeakers(input({ strategy, seats: muted, last: { content: 'Borin?' }, random: seededRandom(seed) }))).not.toContain(
          'b',
        );
      }
    }
  });

  it('the last speaker does not answer itself unless the scene allows it', () => {
    const last = { content: 'I, Aria, will sing now.', characterId: 'a' };
    const chatty = seats.map((seat) => ({ ...seat, talkativeness: 1 }));
    expect(chooseSpeakers(input({ seats: chatty, last }))).toEqual(['b', 'c']);
    expect(chooseFollowUp(input({ seats: chatty, last }))).not.toBe('a');
    expect(chooseSpeakers(input({ seats: chatty, last, allowSelfResponses: true }))).toEqual(['a', 'b', 'c']);
  });

  it('list: everyone in scene order; manual: nobody', () => {
    expect(chooseSpeakers(input({ strategy: 'list' }))).toEqual(['a', 'b', 'c']);
    expect(chooseSpeakers(input({ strategy: 'manual', last: { content: 'Aria?' } }))).toEqual([]);
    expect(chooseFollowUp(input({ strategy: 'manual', last: { content: 'Aria?' } }))).toBeUndefined();
  });

  it('pooled: one character who has not spoken since the last human message', () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(chooseSpeakers(input({ strategy: 'pooled', spokeSinceHuman: ['a', 'c'], random: seededRandom(seed) }))).toEqual(['b']);
    }
    expect(chooseSpeakers(input({ strategy: 'pooled', spokeSinceHuman: ['a', 'b', 'c'] }))).toHaveLength(1);
  });

  it('a follow-up goes to a character named in the reply', () => {
    expect(chooseFollowUp(input({ last: { content: 'What say you, Cass?', characterId: 'a' } }))).toBe('c');
    const quiet = seats.map((seat) => ({ ...seat, talkativeness: 0 }));
    expect(chooseFollowUp(input({ seats: quiet, last: { content: 'Nice weather.', characterId: 'a' } }))).toBeUndefined();
  });
});
