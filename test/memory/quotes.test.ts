import { describe, expect, it } from 'vitest';
import { QuoteFinder } from '../../src/memory/quotes.js';

/** Blanking out a deleted person's words where others' texts repeat them (delete-my-data; issue 16, item 6). */
describe('QuoteFinder', () => {
  const bob = new QuoteFinder(['My name is Bob and I owe the guild 40 crowns.', 'The spare key is under the blue flowerpot!']);

  it('blanks out a run of six or more of their words, whatever the case, spacing and punctuation', () => {
    expect(bob.redact('Alice, did you know BOB   and I owe the guild 40 crowns? Funny.')).toBe('Alice, did you know [removed]? Funny.');
    expect(bob.redact('He said: "the spare key is *under* the blue flowerpot".')).toBe('He said: "[removed]".');
  });

  it('keeps shorter runs and words merely shared', () => {
    const text = 'I owe the guild nothing. The spare key is lost. Bob and I owe you.';
    expect(bob.redact(text)).toBe(text);
  });

  it('joins overlapping runs into one, and finds several apart', () => {
    expect(bob.redact('My name is Bob and I owe the guild 40 crowns, and the spare key is under the blue flowerpot.')).toBe(
      '[removed], and [removed].',
    );
  });

  it('does not run across two of their messages', () => {
    const text = 'Forty crowns. The spare key is under the blue';
    expect(bob.redact('Said the guild 40 crowns the spare key.')).toBe('Said the guild 40 crowns the spare key.');
    expect(bob.redact(text)).toBe('Forty crowns. [removed]');
  });

  it('changes nothing for a person who said nothing long enough', () => {
    expect(new QuoteFinder(['ok', 'see you soon then']).redact('See you soon then, friend.')).toBe('See you soon then, friend.');
  });
});
