import type { ChatMessage } from '../chat/prompt.js';

/** Notes a character keeps about one person, at most; past it the oldest ones the person did not write go. */
export const NOTES_PER_PERSON = 20;
/** The longest note the model may write, in characters (longer ones are cut at a word). */
export const NOTE_CHARS = 180;
/** New or changed notes taken from one extraction, at most. */
export const NOTES_PER_RUN = 8;

/** One line of the exchanges shown to the model: who said it, and the stored message. */
export interface NoteLine {
  messageId: string;
  /** The person's own line (the notes are about them); the others are context. */
  own: boolean;
  speaker: string;
  text: string;
  /** The persona the person spoke as on this line. */
  persona?: string;
}

/** What the model said: a fact, which of the numbered lines it came from, and which existing note it changes. */
export interface ExtractedNote {
  content: string;
  /** 1-based numbers of the lines shown; empty when the model did not say. */
  from: number[];
  /** 1-based number of the existing note it replaces. */
  replaces?: number;
}

/**
 * The request for new or changed facts about one person, given the notes kept so far: names, relations,
 * preferences, plans and promises they stated, as a JSON array. Lines are numbered so each fact can say where
 * it came from (forgetting that message forgets the note).
 */
export function notesRequest(input: { character: string; person: string; existing: string[]; lines: NoteLine[] }): ChatMessage[] {
  const existing = input.existing.length ? input.existing.map((note, i) => `${i + 1}. ${note}`).join('\n') : '(none yet)';
  const lines = input.lines
    .map((line, i) => `[${i + 1}] ${line.speaker}${line.persona ? ` (${input.person} playing ${line.persona})` : ''}: ${line.text}`)
    .join('\n');
  return [
    {
      role: 'system',
      content:
        `You keep ${input.character}'s notes about ${input.person}: short, durable facts about them that stay true ` +
        '(their names, people and pets in their life and how they relate, what they like and dislike, where they live ' +
        'and work, plans, and promises made to or by them). Read the new lines and write only facts that are new or ' +
        'that change a note. Leave out small talk, feelings of the moment, anything only the character said, and facts ' +
        'already noted. When they speak as a character they play, start the fact with "As <that name>, ". ' +
        `Answer with a JSON array, at most ${NOTES_PER_RUN} items, each {"note": "<one short sentence, at most 25 words>", ` +
        '"from": [<numbers of the lines it comes from>], "replaces": <number of the note it changes, if any>}. ' +
        'Answer [] when there is nothing new.',
    },
    { role: 'user', content: `Notes so far:\n${existing}\n\nNew lines:\n${lines}` },
  ];
}

/**
 * Reads the model's answer: a JSON array (of strings or of {note|fact|text, from, replaces} objects, possibly in a
 * code fence or after some words), or else bullet or numbered lines ("- fact", "2. fact"). Anything else (prose,
 * "No new facts.") yields nothing. Notes are trimmed, cut at NOTE_CHARS, and at most NOTES_PER_RUN are kept.
 */
export function parseNotes(answer: string): ExtractedNote[] {
  const fromJson = jsonItems(answer);
  const items = fromJson ?? bulletItems(answer);
  const notes: ExtractedNote[] = [];
  for (const item of items) {
    const content = cleanNote(item.content);
    if (!content || /^(none|nothing( new)?|no new (facts|notes)|n\/a)\W*$/i.test(content)) continue;
    notes.push({ ...item, content });
    if (notes.length >= NOTES_PER_RUN) break;
  }
  return notes;
}

function jsonItems(answer: string): ExtractedNote[] | undefined {
  const start = answer.indexOf('[');
  const end = answer.lastIndexOf(']');
  if (start < 0 || end <= start) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.slice(start, end + 1));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  return parsed.flatMap((item): ExtractedNote[] => {
    if (typeof item === 'string') return [{ content: item, from: [] }];
    if (!item || typeof item !== 'object') return [];
    const record = item as Record<string, unknown>;
    const text = [record.note, record.fact, record.text, record.content].find((value) => typeof value === 'string') as string | undefined;
    if (!text) return [];
    const from = (Array.isArray(record.from) ? record.from : [record.from]).map(Number).filter((n) => Number.isInteger(n) && n > 0);
    const replaces = Number(record.replaces);
    return [{ content: text, from, ...(Number.isInteger(replaces) && replaces > 0 ? { replaces } : {}) }];
  });
}

function bulletItems(answer: string): ExtractedNote[] {
  return answer
    .split(/\r?\n/)
    .map((line) => /^\s*(?:[-*•]|\d+[.)])\s+(.+)$/.exec(line)?.[1])
    .filter((text): text is string => Boolean(text))
    .map((content) => ({ content, from: [] }));
}

/** One line, no wrapping quotes or list marks, at most NOTE_CHARS (cut at a word). */
export function cleanNote(text: string): string {
  const flat = text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^["'“”]+|["'“”]+$/g, '')
    .trim();
  if (flat.length <= NOTE_CHARS) return flat;
  const cut = flat.slice(0, NOTE_CHARS - 1);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), NOTE_CHARS / 2)).trimEnd()}…`;
}

/** A note's words, for telling whether two notes say the same: lower case, letters and digits only. */
export function noteKey(text: string): string {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(' ');
}

/** Whether a new note adds nothing to a kept one (the same words, or contained in it). */
export function sameNote(kept: string, candidate: string): boolean {
  const a = noteKey(kept);
  const b = noteKey(candidate);
  return a === b || (b.length > 0 && ` ${a} `.includes(` ${b} `));
}
