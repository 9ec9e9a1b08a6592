import type { EntityManager } from '@mikro-orm/postgresql';
import { LlmProviderInstance, type ILlmProviderInstance } from '../db/entities/index.js';
import type { Actor } from '../core/identity.js';
import { UserError } from '../errors.js';
import { checkEndpointUrl } from './endpoint-guard.js';
import { ProviderError } from './errors.js';
import { maskKey, type SecretBox } from './secrets.js';
import { providerConfigSchema, type ProviderConfig } from './create-provider.js';
import { PROVIDER_TYPES, type ProviderType } from './types.js';

export const PROVIDER_SCOPES = ['system', 'guild', 'user'] as const;
export type ProviderScope = (typeof PROVIDER_SCOPES)[number];

/** Longer endpoint URLs are refused in plain words. */
const MAX_URL_LENGTH = 2_000;

export interface NewInstance {
  scope: ProviderScope;
  type: ProviderType;
  name: string;
  baseUrl?: string;
  apiKey?: string;
  model?: string;
}

export interface InstanceView {
  id: string;
  name: string;
  type: ProviderType;
  scope: ProviderScope;
  isDefault: boolean;
  isEnabled: boolean;
  baseUrl?: string;
  model?: string;
  contextWindow?: number;
  /** `sk-…abcd`, never the key. */
  maskedKey?: string;
}

/** Who may manage instances of a scope: the operator (system), Manage Server (guild), anyone for themselves. */
function assertCanManage(actor: Actor, scope: ProviderScope, instance?: ILlmProviderInstance): void {
  if (scope === 'system' && actor.user.role !== 'ADMIN') {
    throw new UserError('Only the bot’s operator can manage system providers.');
  }
  if (scope === 'guild') {
    if (!actor.guild) throw new UserError('Server providers are managed from inside the server.');
    if (!actor.isGuildAdmin) throw new UserError('You need the Manage Server permission to manage this server’s providers.');
    if (instance && instance.guild?.id !== actor.guild.id) throw new UserError('That provider belongs to another server.');
  }
  if (scope === 'user' && instance && instance.user?.id !== actor.user.id) {
    throw new UserError('That provider belongs to someone else.');
  }
}

/** Stores a new provider instance; the key is encrypted, the endpoint checked. The first of its scope becomes the default. */
export async function addInstance(
  em: EntityManager,
  actor: Actor,
  input: NewInstance,
  deps: { secrets?: SecretBox; allowPrivateEndpoints: boolean },
): Promise<ILlmProviderInstance> {
  // The scope and type come from a form's custom_id, which a modified client can forge.
  if (!PROVIDER_SCOPES.includes(input.scope))
    throw new UserError('That is not a provider scope: choose yours, this server’s or the operator’s.');
  if (!PROVIDER_TYPES.includes(input.type)) throw new UserError(`That is not a provider type. Supported: ${PROVIDER_TYPES.join(', ')}.`);
  assertCanManage(actor, input.scope);
  if (input.baseUrl && input.baseUrl.length > MAX_URL_LENGTH)
    throw new UserError(`That endpoint URL is longer than ${MAX_URL_LENGTH} characters.`);
  const name = input.name.trim().slice(0, 100);
  if (!name) throw new UserError('Give the provider a name.');
  if (input.type === 'openai-compatible' && !input.baseUrl) throw new UserError('An OpenAI-compatible provider needs its endpoint URL.');
  if (input.baseUrl) {
    try {
      checkEndpointUrl(input.baseUrl, { allowPrivate: input.scope === 'system' || deps.allowPrivateEndpoints });
    } catch (error) {
      throw new UserError(error instanceof ProviderError ? error.userMessage : String(error));
    }
  }
  if (input.apiKey && !deps.secrets) {
    throw new UserError('The bot’s operator has not set SECRET_KEYS, so API keys cannot be stored safely yet.');
  }
  const config: ProviderConfig = providerConfigSchema.parse({
    baseUrl: input.baseUrl || undefined,
    model: input.model?.trim() || undefined,
    apiKey: input.apiKey ? deps.secrets!.encrypt(input.apiKey.trim()) : undefined,
  });
  const owner = ownerFilter(actor, input.scope);
  const existing = await em.count(LlmProviderInstance, { scope: input.scope, ...owner });
  const instance = em.create(LlmProviderInstance, {
    providerType: input.type,
    displayName: name,
    scope: input.scope,
    user: input.scope === 'user' ? actor.user : null,
    guild: input.scope === 'guild' ? actor.guild : null,
    config,
    isDefault: existing === 0,
  });
  await em.flush();
  return instance as ILlmProviderInstance;
}

/** Instances the actor may use here: their own, this server's, and the operator's. */
export async function usableInstances(em: EntityManager, actor: Actor): Promise<ILlmProviderInstance[]> {
  const visible: object[] = [{ scope: 'system' }, { scope: 'user', user: actor.user.id }];
  if (actor.guild) visible.push({ scope: 'guild', guild: actor.guild.id });
  const rows = await em.find(LlmProviderInstance, { $or: visible }, { orderBy: { scope: 'asc', createdAt: 'asc' } });
  return rows as ILlmProviderInstance[];
}

export async function findUsableInstance(em: EntityManager, actor: Actor, id: string): Promise<ILlmProviderInstance> {
  const found = (await usableInstances(em, actor)).find((instance) => instance.id === id);
  if (!found) throw new UserError('No such provider that you can use here. See /provider list.');
  return found;
}

export async function setDefaultInstance(em: EntityManager, actor: Actor, id: string): Promise<ILlmProviderInstance> {
  const instance = await findUsableInstance(em, actor, id);
  assertCanManage(actor, instance.scope, instance);
  await em.transactional(async (tx) => {
    await tx.nativeUpdate(LlmProviderInstance, { scope: instance.scope, ...ownerOf(instance), isDefault: true }, { isDefault: false });
    await tx.nativeUpdate(LlmProviderInstance, { id: instance.id }, { isDefault: true, isEnabled: true });
  });
  await em.refresh(instance);
  return instance;
}

export async function removeInstance(em: EntityManager, actor: Actor, id: string): Promise<ILlmProviderInstance> {
  const instance = await findUsableInstance(em, actor, id);
  assertCanManage(actor, instance.scope, instance);
  await em.nativeDelete(LlmProviderInstance, { id: instance.id });
  return instance;
}

export function viewInstance(instance: ILlmProviderInstance, secrets?: SecretBox): InstanceView {
  const config = instance.config as ProviderConfig;
  let maskedKey: string | undefined;
  if (config.apiKey) {
    try {
      maskedKey = secrets ? maskKey(secrets.decrypt(config.apiKey)) : '(encrypted)';
    } catch {
      maskedKey = '(cannot be decrypted: check SECRET_KEYS)';
    }
  }
  return {
    id: instance.id,
    name: instance.displayName,
    type: instance.providerType as ProviderType,
    scope: instance.scope,
    isDefault: instance.isDefault,
    isEnabled: instance.isEnabled,
    baseUrl: config.baseUrl,
    model: config.model,
    contextWindow: config.contextWindow,
    maskedKey,
  };
}

function ownerFilter(actor: Actor, scope: ProviderScope): object {
  if (scope === 'user') return { user: actor.user.id };
  if (scope === 'guild') return { guild: actor.guild!.id };
  return {};
}

function ownerOf(instance: ILlmProviderInstance): object {
  if (instance.scope === 'user') return { user: instance.user!.id };
  if (instance.scope === 'guild') return { guild: instance.guild!.id };
  return {};
}

/** Sets the model an instance uses when a character names none. */
/** Sets an instance's default model and, when given, its context size in tokens (0 forgets it). */
export async function setInstanceModel(
  em: EntityManager,
  actor: Actor,
  id: string,
  model: string,
  contextWindow?: number,
): Promise<ILlmProviderInstance> {
  const instance = await findUsableInstance(em, actor, id);
  assertCanManage(actor, instance.scope, instance);
  const name = model.trim();
  if (!name || name.length > 200) throw new UserError('Give a model name of at most 200 characters.');
  const config: ProviderConfig = { ...(instance.config as ProviderConfig), model: name };
  if (contextWindow === 0) delete config.contextWindow;
  else if (contextWindow !== undefined) {
    if (contextWindow < 512 || contextWindow > 10_000_000)
      throw new UserError('Give a context size between 512 and 10,000,000 tokens (0 to forget it).');
    config.contextWindow = contextWindow;
  }
  instance.config = config;
  await em.flush();
  return instance;
}

/** Sets whether an instance's models are sent pictures: true, false, or undefined to go by the model's name. */
export async function setInstanceVision(
  em: EntityManager,
  actor: Actor,
  id: string,
  vision: boolean | undefined,
): Promise<ILlmProviderInstance> {
  const instance = await findUsableInstance(em, actor, id);
  assertCanManage(actor, instance.scope, instance);
  const { vision: _old, ...config } = instance.config as ProviderConfig;
  instance.config = vision === undefined ? config : { ...config, vision };
  await em.flush();
  return instance;
}

/**
 * Re-encrypts every stored API key that is not under the first key of
 * SECRET_KEYS (rotate-secrets). A key that no listed key opens is left as it
 * is and named in `unreadable`, so the others are still rotated.
 */
export async function reencryptStoredKeys(em: EntityManager, secrets: SecretBox): Promise<{ rotated: number; unreadable: string[] }> {
  let rotated = 0;
  const unreadable: string[] = [];
  await em.transactional(async (tx) => {
    for (const instance of await tx.find(LlmProviderInstance, {})) {
      const stored = instance.config as ProviderConfig;
      if (!stored.apiKey || !secrets.needsRotation(stored.apiKey)) continue;
      let plain: string;
      try {
        plain = secrets.decrypt(stored.apiKey);
      } catch {
        unreadable.push(`${instance.displayName} (${instance.id})`);
        continue;
      }
      instance.config = { ...stored, apiKey: secrets.encrypt(plain) };
      rotated += 1;
    }
  });
  return { rotated, unreadable };
}
