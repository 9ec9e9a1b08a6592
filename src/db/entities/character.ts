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
  memory_enabled?: boolean;
  /** Whether the character recalls its other conversations with the same person: off, same server (default), everywhere. */
  shared_memory?: 'off' | 'server' | 'everywhere';
  /** In scenes: how likely the character speaks up unprompted, 0–1 (default 0.5). */
  talkativeness?: number;
}

export const DEFAULT_CHARACTER_CONFIG: CharacterConfig = {
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
    personalityPrompt: p.text(),
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
