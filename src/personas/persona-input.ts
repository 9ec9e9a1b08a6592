import { z } from 'zod';
import { characterInputSchema } from '../characters/character-input.js';
import { withoutNul } from '../core/text.js';

/**
 * A persona's name: every check a character's name gets (one schema, so what
 * characters refuse, personas refuse too), then Discord's rules for a
 * webhook's username, since the persona speaks through the webhook: 1–80
 * characters, never "discord" or "clyde" in it.
 */
const personaNameSchema = characterInputSchema.shape.name
  .refine((name) => name.length <= 80, 'must be at most 80 characters (Discord’s limit for the name a message is posted under)')
  .refine((name) => !/discord|clyde/i.test(name), 'cannot contain “discord” or “clyde” (Discord refuses such names)');

const proxyTagSchema = z
  .object({ prefix: z.string().max(50).optional(), suffix: z.string().max(50).optional() })
  .refine((tag) => Boolean(tag.prefix?.trim() || tag.suffix?.trim()), 'needs a prefix or a suffix');

/** What a person may set on a persona (commands, forms and imports all pass through this). */
export const personaInputSchema = z.object({
  name: personaNameSchema,
  description: z.string().trim().max(4_000, 'must be at most 4000 characters').transform(withoutNul).default(''),
  avatarUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) link to an image' })
    .max(2_000)
    .nullish(),
  proxyTags: z.array(proxyTagSchema).max(20, 'can be at most 20').optional(),
  isNsfw: z.boolean().optional(),
});

export type PersonaInput = z.input<typeof personaInputSchema>;
export const personaPatchSchema = personaInputSchema.partial();
export type PersonaPatch = z.input<typeof personaPatchSchema>;
