import { z } from 'zod';
import { CHARACTER_VISIBILITIES } from '../db/entities/index.js';
import { SHARED_MEMORY_SCOPES } from '../chat/retrieval.js';
import { withoutNul } from '../core/text.js';

/* eslint-disable no-control-regex */
const CONTROL = /[\u0000-\u001f\u007f]/;

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`).transform(withoutNul);

export const characterConfigSchema = z.object({
  model: z.string().trim().min(1).max(200).optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().min(1).max(32_000).optional(),
  memory_enabled: z.boolean().optional(),
  /** In scenes: how likely it speaks up unprompted, 0–1 (default 0.5). */
  talkativeness: z.number().min(0).max(1).optional(),
  /** Whether it recalls its other conversations with the same person: off, same server, everywhere. */
  shared_memory: z.enum(SHARED_MEMORY_SCOPES).optional(),
});

/** What a user may set on a character (commands, modals, card imports all pass through this). */
export const characterInputSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, 'cannot be empty')
    .max(100, 'must be at most 100 characters')
    .refine((name) => !CONTROL.test(name), 'cannot contain control characters'),
  personalityPrompt: z.string().trim().min(1, 'cannot be empty').max(32_000, 'must be at most 32000 characters').transform(withoutNul),
  greeting: text(8_000).nullish(),
  exampleDialogue: text(32_000).nullish(),
  scenario: text(16_000).nullish(),
  systemPrompt: text(16_000).nullish(),
  postHistoryInstructions: text(8_000).nullish(),
  creatorNotes: text(16_000).nullish(),
  avatarUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) link to an image' })
    .max(2_000)
    .nullish(),
  alternateGreetings: z.array(text(8_000)).max(50).optional(),
  tags: z.array(z.string().trim().min(1).max(50)).max(50).optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  config: characterConfigSchema.optional(),
  visibility: z.enum(CHARACTER_VISIBILITIES).optional(),
  isNsfw: z.boolean().optional(),
});

export type CharacterInput = z.infer<typeof characterInputSchema>;
export const characterPatchSchema = characterInputSchema.partial();
export type CharacterPatch = z.infer<typeof characterPatchSchema>;

/** Turns zod issues into one plain sentence per field, e.g. "Name must be at most 100 characters." */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length ? humanize(String(issue.path[0])) : 'Input';
      return `${field} ${issue.message}.`;
    })
    .join(' ');
}

function humanize(field: string): string {
  const spaced = field.replace(/([A-Z])/g, ' $1').replace(/_/g, ' ').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
