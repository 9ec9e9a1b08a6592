import { z } from 'zod';

/** Limits that keep a hostile card from costing memory or database space. */
export const CARD_LIMITS = {
  fileBytes: 20 * 1024 * 1024,
  field: 64 * 1024,
  description: 128 * 1024,
  loreEntries: 1000,
  loreTotal: 2 * 1024 * 1024,
  nameLength: 100,
};

const text = (max = CARD_LIMITS.field) => z.string().max(max, `is longer than ${max} characters`).default('');
const list = z.array(z.string().max(CARD_LIMITS.field)).max(200).default([]);

/** A character_book entry (Character Card V2, with the V3 additions). */
export const loreEntrySchema = z.object({
  keys: z.array(z.string().max(1000)).max(200).default([]),
  secondary_keys: z.array(z.string().max(1000)).max(200).default([]),
  content: text(),
  enabled: z.boolean().default(true),
  insertion_order: z.number().default(0),
  case_sensitive: z.boolean().optional(),
  name: z.string().max(1000).optional(),
  priority: z.number().optional(),
  id: z.union([z.number(), z.string()]).optional(),
  comment: z.string().max(CARD_LIMITS.field).optional(),
  selective: z.boolean().optional(),
  constant: z.boolean().optional(),
  position: z.string().optional(),
  use_regex: z.boolean().optional(),
});

export const characterBookSchema = z.object({
  name: z.string().optional(),
  entries: z.array(loreEntrySchema).max(CARD_LIMITS.loreEntries, `has more than ${CARD_LIMITS.loreEntries} lore entries`).default([]),
});

/** SillyTavern keeps a character's talkativeness in group chats (0–1, often a string) in `extensions`. */
const talkativeness = z.union([z.number(), z.string()]).transform((value) => Number(value)).pipe(z.number().min(0).max(1)).optional().catch(undefined);

/** The `data` of a V2 or V3 card; unknown keys are dropped, and of `extensions` only what DreamChat uses is read. */
export const cardDataSchema = z.object({
  name: z.string().max(1000),
  description: text(CARD_LIMITS.description),
  personality: text(),
  scenario: text(),
  first_mes: text(),
  mes_example: text(),
  creator_notes: text(),
  system_prompt: text(),
  post_history_instructions: text(),
  alternate_greetings: list,
  tags: z.array(z.string().max(100)).max(200).default([]),
  creator: text(1000),
  character_version: text(1000),
  character_book: characterBookSchema.optional(),
  nickname: z.string().max(1000).optional(),
  extensions: z.object({ talkativeness }).optional().catch(undefined),
});

export const cardSchema = z.discriminatedUnion('spec', [
  z.object({ spec: z.literal('chara_card_v2'), spec_version: z.string().optional(), data: cardDataSchema }),
  z.object({ spec: z.literal('chara_card_v3'), spec_version: z.string().optional(), data: cardDataSchema }),
]);

/** V1: the fields at the top level, no spec. */
export const legacyCardSchema = cardDataSchema.pick({
  name: true,
  description: true,
  personality: true,
  scenario: true,
  first_mes: true,
  mes_example: true,
});

export type CardData = z.infer<typeof cardDataSchema>;
