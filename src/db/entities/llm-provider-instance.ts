import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { createdAt, id, jsonObject, updatedAt } from './common.js';
import { Guild } from './guild.js';
import { User } from './user.js';

const PROVIDER_TYPES = ['openai', 'openai-compatible', 'anthropic', 'ollama'] as const;
/** system: the operator's; guild: a server's, set by its admins; user: someone's own key. */
const PROVIDER_SCOPES = ['system', 'guild', 'user'] as const;

function defaultIndex(scope: string, column: string) {
  const name = `llm_provider_instances_${scope}_default`;
  return {
    name,
    expression: `create unique index "${name}" on "llm_provider_instances" ("${column}") where "is_default" and "scope" = '${scope}'`,
  };
}

/** A configured LLM endpoint (seed 000). `config` holds the endpoint, model and the encrypted key. */
export const LlmProviderInstance = defineEntity({
  name: 'LlmProviderInstance',
  tableName: 'llm_provider_instances',
  // The owner matches the scope, and each owner has at most one default.
  checks: [
    {
      name: 'llm_provider_instances_scope_check',
      expression:
        "(scope = 'system' and user_id is null and guild_id is null) or " +
        "(scope = 'guild' and guild_id is not null and user_id is null) or " +
        "(scope = 'user' and user_id is not null and guild_id is null)",
    },
  ],
  indexes: [defaultIndex('system', 'scope'), defaultIndex('guild', 'guild_id'), defaultIndex('user', 'user_id')],
  properties: {
    id: id(),
    providerType: p.enum(PROVIDER_TYPES).nativeEnumName('provider_type').index(),
    displayName: p.string().length(100),
    scope: p.enum(PROVIDER_SCOPES).nativeEnumName('provider_scope'),
    user: () => p.manyToOne(User).nullable().deleteRule('cascade').index(),
    guild: () => p.manyToOne(Guild).nullable().deleteRule('cascade').index(),
    config: jsonObject(),
    isDefault: p.boolean().default(false).index(),
    isEnabled: p.boolean().default(true).index(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
});
export type ILlmProviderInstance = InferEntity<typeof LlmProviderInstance>;
