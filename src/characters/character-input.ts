import { z } from 'zod';
import { CHARACTER_VISIBILITIES } from '../db/entities/index.js';
import { SHARED_MEMORY_SCOPES } from '../chat/retrieval.js';
import { withoutNul } from '../core/text.js';

/* eslint-disable no-control-regex */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Embeddings and overrides that flip how the rest of a name reads (impersonation: "Alice" shown from other letters). */
const BIDI_OVERRIDE = /[\u202a-\u202e\u2066-\u2069]/;
/** Format characters (zero-width, direction marks), separators and blank-looking fillers: a name of only these looks empty. */
const INVISIBLE = /[\p{Cf}\p{Z}\p{M}\u115f\u1160\u3164\uffa0\u2800]/gu;

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`).transform(withoutNul);

/**
 * How long a character's fields may be, for the form, commands and card imports alike (a card whose text is longer
 * is refused, naming the field; greetings and tags beyond the counts are left out and listed in the import reply).
 */
export const CHARACTER_LIMITS = {
  name: 100,
  description: 128_000,
  personality: 32_000,
  scenario: 32_000,
  greeting: 32_000,
  exampleDialogue: 64_000,
  systemPrompt: 32_000,
  postHistoryInstructions: 32_000,
  creatorNotes: 64_000,
  alternateGreetings: 200,
  tags: 200,
  tagLength: 100,
} as const;
const L = CHARACTER_LIMITS;

const characterConfigSchema = z.object({
  model: z.string().trim().min(1).max(200).optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().min(1).max(32_000).optional(),
  /** The context size its prompts are built for, in tokens (see src/llm/models.ts contextWindowOf). */
  context_window: z.number().int().min(512).max(10_000_000).optional(),
  memory_enabled: z.boolean().optional(),
  /** In scenes: how likely it speaks up unprompted, 0–1 (default 0.5). */
  talkativeness: z.number().min(0).max(1).optional(),
  /** Whether it recalls its other conversations with the same person: off, same server, everywhere. */
  shared_memory: z.enum(SHARED_MEMORY_SCOPES).optional(),
  /** Whether its model is sent pictures; unset, known vision models are. */
  vision: z.boolean().optional(),
});

const characterFields = z.object({
  name: z
    .string()
    .trim()
    .min(1, 'cannot be empty')
    .max(L.name, `must be at most ${L.name} characters`)
    .refine((name) => !CONTROL.test(name), 'cannot contain control characters')
    .superRefine((name, context) => {
      const problem = impersonation(name);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
  /** The card's description; a card may leave it empty (the form asks for it). */
  personalityPrompt: text(L.description),
  personality: text(L.personality).nullish(),
  greeting: text(L.greeting).nullish(),
  exampleDialogue: text(L.exampleDialogue).nullish(),
  scenario: text(L.scenario).nullish(),
  systemPrompt: text(L.systemPrompt).nullish(),
  postHistoryInstructions: text(L.postHistoryInstructions).nullish(),
  creatorNotes: text(L.creatorNotes).nullish(),
  avatarUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) link to an image' })
    .max(2_000)
    .nullish(),
  alternateGreetings: z.array(text(L.greeting)).max(L.alternateGreetings).optional(),
  tags: z.array(z.string().trim().min(1).max(L.tagLength)).max(L.tags).optional(),
  /** The imported card's JSON as it came (see CardJson). */
  card: z.record(z.string(), z.unknown()).nullish(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  config: characterConfigSchema.optional(),
  visibility: z.enum(CHARACTER_VISIBILITIES).optional(),
  isNsfw: z.boolean().optional(),
});

/** A character made here needs a description; an imported card may come without one (SillyTavern allows it). */
const described: [
  (input: { personalityPrompt?: string; card?: unknown }) => boolean,
  { path: string[]; message: string; when: () => boolean },
] = [
  (input) => typeof input.personalityPrompt !== 'string' || Boolean(input.personalityPrompt.trim()) || Boolean(input.card),
  // `when`: checked even when other fields are wrong, so one answer names every problem.
  { path: ['personalityPrompt'], message: 'cannot be empty', when: () => true },
];

/** What a user may set on a character (commands, modals, card imports all pass through this). */
export const characterInputSchema = characterFields.refine(...described);
/** Why a name could pass for something else (nothing shown, reversed text, a ping of everyone), or undefined. */
function impersonation(name: string): string | undefined {
  if (BIDI_OVERRIDE.test(name)) return 'cannot contain text-direction overrides';
  if (!name.replace(INVISIBLE, '').length) return 'needs at least one visible character';
  if (/@(everyone|here)\b/i.test(name)) return 'cannot contain @everyone or @here';
  return undefined;
}

export type CharacterInput = z.infer<typeof characterInputSchema>;
export const characterPatchSchema = characterFields.partial().refine(...described);
export type CharacterPatch = z.infer<typeof characterPatchSchema>;

/** Turns zod issues into one plain sentence per field, e.g. "Name must be at most 100 characters." */
export function describeIssues(error: z.ZodError): string {
  const order = Object.keys(characterFields.shape);
  const rank = (issue: z.core.$ZodIssue) => (issue.path.length ? order.indexOf(String(issue.path[0])) : -1);
  return [...error.issues]
    .sort((a, b) => rank(a) - rank(b))
    .map((issue) => {
      const field = issue.path.length ? humanize(String(issue.path[0])) : 'Input';
      return `${field} ${issue.message}.`;
    })
    .join(' ');
}

function humanize(field: string): string {
  const spaced = field
    .replace(/([A-Z])/g, ' $1')
    .replace(/_/g, ' ')
    .toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
