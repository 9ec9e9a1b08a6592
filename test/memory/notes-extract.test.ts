import { describe, expect, it } from 'vitest';
import { cleanNote, NOTE_CHARS, NOTES_PER_RUN, parseNotes, sameNote } from '../../src/memory/notes-extract.js';

describe('reading the note-taker’s answer', () => {
  it('reads a JSON array of strings or objects, in a code fence or after words', () => {
    expect(parseNotes('Sure!\n```json\n["Has a cat.", {"note": "Lives in Lyon.", "from": [2, "3"], "replaces": 1}]\n```')).toEqual([
      { content: 'Has a cat.', from: [] },
      { content: 'Lives in Lyon.', from: [2, 3], replaces: 1 },
    ]);
    expect(parseNotes('[{"fact": "Likes tea."}, {"text": "Is 34."}, 7, null]')).toEqual([
      { content: 'Likes tea.', from: [] },
      { content: 'Is 34.', from: [] },
    ]);
  });

  it('falls back to bullet or numbered lines; prose, "none" and [] yield nothing', () => {
    expect(parseNotes('New facts:\n- Has a sister, Ione.\n* Works nights.\n2) Owes Aria a song.').map((n) => n.content)).toEqual([
      'Has a sister, Ione.',
      'Works nights.',
      'Owes Aria a song.',
    ]);
    expect(parseNotes('No new facts this time.')).toEqual([]);
    expect(parseNotes('- None.')).toEqual([]);
    expect(parseNotes('[]')).toEqual([]);
    expect(parseNotes('[not json')).toEqual([]);
  });

  it('caps the count and the size of notes', () => {
    const many = JSON.stringify(Array.from({ length: 20 }, (_, i) => `Fact ${i}.`));
    expect(parseNotes(many)).toHaveLength(NOTES_PER_RUN);
    const long = cleanNote(`"${'word '.repeat(100)}"`);
    expect(long.length).toBeLessThanOrEqual(NOTE_CHARS);
    expect(long.endsWith('…')).toBe(true);
  });

  it('tells a repeat from a new fact', () => {
    expect(sameNote('Has a cat named Pepper.', 'has a cat named pepper')).toBe(true);
    expect(sameNote('Has a cat named Pepper, who hates rain.', 'Has a cat named Pepper')).toBe(true);
    expect(sameNote('Has a cat named Pepper.', 'Has a dog named Pepper.')).toBe(false);
  });
});
