import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import type { Actor } from '../core/identity.js';
import { LlmProviderInstance, type ICharacter, type ILlmProviderInstance } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import type { ResolvedModel } from '../chat/responder.js';
import { createProvider, VENDOR_NAMES, type ProviderConfig } from './create-provider.js';
import type { Lookup } from './endpoint-guard.js';
import { contextWindowOf, DEFAULT_MODELS } from './models.js';
import type { SecretBox } from './secrets.js';
import type { ChatProvider, ProviderType } from './types.js';

export const NO_PROVIDER_MESSAGE =
  'No AI provider is set up here yet. A server admin can add one with /provider add, ' +
  'or you can add your own key with /provider add scope:me.';

/**
 * Turns provider instances into ready SDK clients (built once per instance and
 * version, then reused) and decides which instance and model answer.
 *
 * Resolution order, first match wins; disabled or deleted instances are skipped:
 *   1. the user's own default instance, unless the server forbids user keys or
 *      the character is someone else's private one (see mayUseOwnProvider);
 *   2. the server's default instance;
 *   3. the operator's (system) default instance, else any enabled system instance.
 * The model is the character's configured model if it has one, else the
 * instance's model, else the vendor's default.
 */
export class ProviderRegistry {
  readonly #config: Config;
  readonly #secrets?: SecretBox;
  readonly #lookup?: Lookup;
  readonly #providers = new Map<string, { version: number; provider: ChatProvider }>();

  constructor(deps: { config: Config; secrets?: SecretBox; lookup?: Lookup }) {
    this.#config = deps.config;
    this.#secrets = deps.secrets;
    this.#lookup = deps.lookup;
  }

  /** The SDK-backed provider of an instance, reused until the instance changes. */
  providerFor(instance: ILlmProviderInstance): ChatProvider {
    const version = instance.updatedAt.getTime();
    const cached = this.#providers.get(instance.id);
    if (cached?.version === version) return cached.provider;
    const config = { ...(instance.config as ProviderConfig) };
    config.apiKey = this.#apiKey(instance, config);
    const provider = createProvider({
      type: instance.providerType as ProviderType,
      name: instance.displayName,
      config,
      policy: {
        allowPrivate: instance.scope === 'system' || this.#config.secrets.allowPrivateEndpoints,
        lookup: this.#lookup,
      },
    });
    this.#providers.set(instance.id, { version, provider });
    return provider;
  }

  async resolve(
    em: EntityManager,
    request: { actor: Actor; character?: ICharacter },
  ): Promise<ResolvedModel & { instance: ILlmProviderInstance }> {
    const instance = await resolveInstance(em, request.actor, request.character);
    const config = instance.config as ProviderConfig;
    const model = request.character?.config.model || config.model || DEFAULT_MODELS[instance.providerType as ProviderType];
    return {
      instance,
      provider: this.providerFor(instance),
      model,
      contextWindow: contextWindowOf(model, {
        character: request.character?.config.context_window,
        provider: config.contextWindow,
        operator: this.#config.contextWindow,
        type: instance.providerType as ProviderType,
      }),
      ...(config.vision === undefined ? {} : { vision: config.vision }),
    };
  }

  #apiKey(instance: ILlmProviderInstance, config: ProviderConfig): string | undefined {
    if (config.envKey) return this.#config.systemProviders[config.envKey]?.apiKey;
    if (!config.apiKey) return undefined;
    if (!this.#secrets) throw new UserError(`The key of “${instance.displayName}” cannot be read: the operator has not set SECRET_KEYS.`);
    try {
      return this.#secrets.decrypt(config.apiKey);
    } catch {
      throw new UserError(`The key of “${instance.displayName}” cannot be decrypted. Add it again with /provider add.`);
    }
  }
}

/**
 * Whether a person's own provider may answer for this character. A provider of
 * scope "me" is an endpoint its owner chose, which may log everything it is
 * sent: it only ever gets characters its owner may use anyway (their own, this
 * server's, public ones). Someone else's private character (its card, lore and
 * knowledge) goes to the server's or the operator's provider, never to another
 * member's; the character's owner's own key is not spent on other people either.
 */
function mayUseOwnProvider(actor: Actor, character: ICharacter | undefined): boolean {
  if (!character || character.user.id === actor.user.id || character.visibility === 'public') return true;
  return character.visibility === 'guild' && actor.guild !== undefined && character.guild?.id === actor.guild.id;
}

export async function resolveInstance(em: EntityManager, actor: Actor, character?: ICharacter): Promise<ILlmProviderInstance> {
  const allowUserKeys = actor.guild?.settings.allowUserKeys !== false;
  const ownAllowed = mayUseOwnProvider(actor, character);
  const candidates: object[] = [{ scope: 'system' }];
  if (allowUserKeys && ownAllowed) candidates.push({ scope: 'user', user: actor.user.id, isDefault: true });
  if (actor.guild) candidates.push({ scope: 'guild', guild: actor.guild.id, isDefault: true });
  // One query for every candidate; the order of preference is applied here.
  const rows = (await em.find(
    LlmProviderInstance,
    { isEnabled: true, $or: candidates },
    { orderBy: { createdAt: 'asc' } },
  )) as ILlmProviderInstance[];
  const rank = (instance: ILlmProviderInstance) =>
    instance.scope === 'user' ? 0 : instance.scope === 'guild' ? 1 : instance.isDefault ? 2 : 3;
  const best = rows.sort((a, b) => rank(a) - rank(b))[0];
  if (!best && !ownAllowed) {
    throw new UserError(
      `${character!.name} is someone's private character, so only this server's or the operator's AI provider may answer for it ` +
        '(never a personal one: that would send its card to an endpoint its owner did not choose). None is set up here yet.',
    );
  }
  if (!best) throw new UserError(NO_PROVIDER_MESSAGE);
  return best;
}

/**
 * Makes system instances for the providers configured in the environment
 * (OPENAI_API_KEY, ANTHROPIC_API_KEY, OLLAMA_HOST). Their keys stay in the
 * environment. Idempotent: run at every start.
 */
export async function seedSystemInstances(em: EntityManager, config: Config): Promise<void> {
  const wanted: { type: ProviderType; config: ProviderConfig }[] = [];
  const { openai, anthropic, ollama } = config.systemProviders;
  if (openai) {
    wanted.push({
      type: openai.baseUrl ? 'openai-compatible' : 'openai',
      config: { baseUrl: openai.baseUrl, model: openai.model, envKey: 'openai' },
    });
  }
  if (anthropic) wanted.push({ type: 'anthropic', config: { model: anthropic.model, envKey: 'anthropic' } });
  if (ollama) wanted.push({ type: 'ollama', config: { baseUrl: ollama.host, model: ollama.model } });
  // Processes starting together (a gateway and its workers) take turns: otherwise two could both add the default.
  await em.transactional(async (tx) => {
    await tx.execute(`select pg_advisory_xact_lock(hashtext('dreamchat:seed-system-providers'))`);
    const hasDefault = (await tx.count(LlmProviderInstance, { scope: 'system', isDefault: true })) > 0;
    for (const [index, entry] of wanted.entries()) {
      const displayName = `${VENDOR_NAMES[entry.type].replace(/^The /, '')} (from the environment)`;
      const existing = await tx.findOne(LlmProviderInstance, { scope: 'system', displayName });
      if (existing) {
        // What the environment says replaces what it said before; settings made since (a context size) stay.
        existing.config = { ...(existing.config as ProviderConfig), ...withoutUndefined(entry.config) };
        existing.providerType = entry.type;
      } else {
        tx.create(LlmProviderInstance, {
          scope: 'system',
          providerType: entry.type,
          displayName,
          config: entry.config,
          isDefault: !hasDefault && index === 0,
        });
      }
    }
  });
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
