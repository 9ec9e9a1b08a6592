import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { createdAt, id, jsonArray, updatedAt } from './common.js';
import { User } from './user.js';

/** How a message says it is a persona's, as Tupperbox and PluralKit write it: `K: text` is { prefix: 'K:' }, `[text]` is { prefix: '[', suffix: ']' }. */
export interface ProxyTag {
  prefix?: string;
  suffix?: string;
}

/** A character a person plays themselves: their name is {{user}} where they wear it, and they may speak as it through the webhook. */
export const Persona = defineEntity({
  name: 'Persona',
  tableName: 'personas',
  indexes: [
    {
      name: 'idx_personas_user_name',
      expression: `create unique index "idx_personas_user_name" on "personas" ("user_id", lower("name"))`,
    },
  ],
  properties: {
    id: id(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    name: p.string().length(80),
    /** Sent to the model where the persona is worn, as SillyTavern sends a persona description. */
    description: p.text().default(''),
    avatarUrl: p.text().nullable(),
    proxyTags: jsonArray<ProxyTag>(),
    /** Worn only where NSFW characters may run. */
    isNsfw: p.boolean().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
});
export type IPersona = InferEntity<typeof Persona>;

/** everywhere: place '' ; server: the guild's Discord id ; channel: the channel's or thread's Discord id. */
export const PERSONA_SCOPES = ['everywhere', 'server', 'channel'] as const;
export type PersonaScope = (typeof PERSONA_SCOPES)[number];

/** Which persona a person wears in one place (none: plain them), and whether all they write there is reposted as it. */
export const PersonaChoice = defineEntity({
  name: 'PersonaChoice',
  tableName: 'persona_choices',
  uniques: [{ properties: ['user', 'scope', 'placeId'] }],
  properties: {
    id: id(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    scope: p.string().length(10).$type<PersonaScope>(),
    placeId: p.string().length(20).default(''),
    persona: () => p.manyToOne(Persona).nullable().deleteRule('cascade').index('idx_persona_choices_persona'),
    autoproxy: p.boolean().default(false),
    updatedAt: updatedAt(),
  },
});
export type IPersonaChoice = InferEntity<typeof PersonaChoice>;
