import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { createdAt, id, jsonArray, jsonObject, updatedAt } from './common.js';
import { Guild } from './guild.js';
import { User } from './user.js';

/** private: only the creator; guild: everyone in `guild`; public: anyone, anywhere. */
export const CHARACTER_VISIBILITIES = ['private', 'guild', 'public'] as const;

export interface CharacterConfig {
  model?: string;
  temperature?: number;
  max_tokens?: number;
  /** The context size to build this character's prompts for, in tokens (overrides the provider's and the operator's). */
  context_window?: number;
  memory_enabled?: boolean;
  /** Whether the character recalls its other conversations with the same person: off, same server (default), everywhere. */
  shared_memory?: 'off' | 'server' | 'everywhere';
  /** In scenes: how likely the character speaks up unprompted, 0–1 (default 0.5). */
  talkativeness?: number;
  /** Whether its model is sent pictures (true/false); unset, known vision model families are. */
  vision?: boolean;
}

/**
 * The card a character was imported from, exactly as it came: `{ spec, spec_version, data }` for V2/V3 (V1,
 * Pygmalion and Agnai cards are kept in their own shape under `original`), every key kept, nested `extensions`
 * included. The lorebook's entries are not kept here (they live in lore items, each with its own original JSON);
 * `data.character_book` keeps the book's own fields (name, description, scan_depth, token_budget,
 * recursive_scanning, extensions) with `entries: []`. Export merges the character's current values into it.
 */
export type CardJson = Record<string, unknown>;

const DEFAULT_CHARACTER_CONFIG: CharacterConfig = {
  temperature: 0.7,
  max_tokens: 1024,
  memory_enabled: true,
};

export const Character = defineEntity({
  name: 'Character',
  tableName: 'characters',
  indexes: [{ name: 'idx_characters_attributes', properties: ['attributes'], type: 'GIN' }],
  properties: {
    id: id(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('idx_characters_user_id'),
    guild: () => p.manyToOne(Guild).nullable().deleteRule('cascade').index('idx_characters_guild_id'),
    name: p.string().length(255).index('idx_characters_name'),
    avatarUrl: p.text().nullable(),
    /** The card's `description` (who the character is). The seed calls it the personality prompt. */
    personalityPrompt: p.text(),
    /** The card's `personality` field (a short summary of temperament), kept apart from the description. */
    personality: p.text().nullable(),
    /** The imported card as it came (see CardJson); null for characters made with the form. */
    card: p.json<CardJson>().nullable(),
    greeting: p.text().nullable(),
    exampleDialogue: p.text().nullable(),
    scenario: p.text().nullable(),
    systemPrompt: p.text().nullable(),
    postHistoryInstructions: p.text().nullable(),
    alternateGreetings: jsonArray<string>(),
    tags: jsonArray<string>(),
    creatorNotes: p.text().nullable(),
    attributes: jsonObject(),
    config: p
      .json<CharacterConfig>()
      .default(JSON.stringify(DEFAULT_CHARACTER_CONFIG))
      .onCreate(() => ({ ...DEFAULT_CHARACTER_CONFIG })),
    visibility: p.enum(CHARACTER_VISIBILITIES).nativeEnumName('character_visibility').default('private'),
    isNsfw: p.boolean().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
});
export type ICharacter = InferEntity<typeof Character>;
