import { describe, expect, it } from 'vitest';
import { contentWords, worthRemembering } from '../../src/memory/worth.js';

describe('which exchanges are worth remembering', () => {
  it('keeps any line with a name, a number or a noun, short ones included', () => {
    expect(worthRemembering(['I’m Bo.'], 'Nice to meet you, Bo!')).toBe(true);
    expect(worthRemembering(['Pizza.'], 'A fine choice.')).toBe(true);
    expect(worthRemembering(['I am 34 today'], 'Happy birthday!')).toBe(true);
    expect(worthRemembering(['My sister is called Ione.'], 'What a lovely name.')).toBe(true);
    expect(contentWords('My sister is called Ione.')).toEqual(['sister', 'called', 'ione']);
  });

  it('drops small talk, one-word acknowledgements and a question the character could not answer', () => {
    expect(worthRemembering(['hi!'], 'Hello there!')).toBe(false);
    expect(worthRemembering(['lol ok', 'thanks!'], 'Any time.')).toBe(false);
    expect(worthRemembering(['Yes.'], 'Good.')).toBe(false);
    expect(worthRemembering(['What is the capital of Veyra?'], 'I’m not sure, to be honest.')).toBe(false);
    expect(worthRemembering(['What is the capital of Veyra?'], "I don't know.")).toBe(false);
    // Told something, the character may well be unsure: the telling is the fact.
    expect(worthRemembering(['The capital of Veyra is Orl.'], 'I’m not sure I knew that!')).toBe(true);
    // A long answer that starts unsure still answers.
    expect(
      worthRemembering(
        ['Where is Orl?'],
        `I'm not sure, but ${'the old maps put it north of the harbour, past the salt flats. '.repeat(3)}`,
      ),
    ).toBe(true);
  });
});
