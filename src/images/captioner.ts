import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Actor } from '../core/identity.js';
import { UserError } from '../errors.js';
import { LlmProviderInstance, type ILlmProviderInstance } from '../db/entities/index.js';
import type { ProviderConfig } from '../llm/create-provider.js';
import { DEFAULT_MODELS } from '../llm/models.js';
import type { ChatProvider, ChatUsage, ProviderType } from '../llm/types.js';
import { imageTokens } from './vision.js';

/** A vision-capable provider and model that describes images. */
export interface Captioner {
  provider: ChatProvider;
  model: string;
  /** Who wrote a caption, kept with it ("Anthropic (from the environment) · claude-haiku-4-5"). */
  label: string;
}

/** The server's captioner, kept in guilds.settings.captioner. */
const serverCaptionerSchema = z.object({ instanceId: z.string().uuid(), model: z.string().min(1).max(200).optional() });
export type ServerCaptioner = z.infer<typeof serverCaptionerSchema>;

function serverCaptionerOf(settings: Record<string, unknown> | null | undefined): ServerCaptioner | undefined {
  const parsed = serverCaptionerSchema.safeParse(settings?.captioner);
  return parsed.success ? parsed.data : undefined;
}

/** Builds SDK clients for instances (the provider registry). */
export interface ProviderSource {
  providerFor(instance: ILlmProviderInstance): ChatProvider;
}

/**
 * Finds who captions images for a reply: the server's captioner (set with
 * /provider captioner), else the operator's (CAPTION_PROVIDER), else none. The
 * character's own provider, when it has vision, is the caller's last choice.
 */
export async function configuredCaptioner(
  em: EntityManager,
  deps: { config: Config; providers: ProviderSource },
  actor: Actor,
): Promise<Captioner | undefined> {
  const server = actor.guild ? serverCaptionerOf(actor.guild.settings) : undefined;
  if (server) {
    const instance = (await em.findOne(LlmProviderInstance, {
      id: server.instanceId,
      isEnabled: true,
      $or: [{ scope: 'system' }, { scope: 'guild', guild: actor.guild!.id }],
    })) as ILlmProviderInstance | null;
    if (instance) return captionerOf(deps.providers, instance, server.model);
  }
  const wanted = deps.config.images.captionProvider;
  if (!wanted) return undefined;
  const instances = (await em.find(
    LlmProviderInstance,
    { scope: 'system', isEnabled: true },
    { orderBy: { createdAt: 'asc' } },
  )) as ILlmProviderInstance[];
  const instance = instances.find((row) => {
    const config = row.config as ProviderConfig;
    return wanted === 'ollama' ? row.providerType === 'ollama' : config.envKey === wanted;
  });
  return instance ? captionerOf(deps.providers, instance, deps.config.images.captionModel) : undefined;
}

function captionerOf(providers: ProviderSource, instance: ILlmProviderInstance, model?: string): Captioner {
  const chosen = model || (instance.config as ProviderConfig).model || DEFAULT_MODELS[instance.providerType as ProviderType];
  return { provider: providers.providerFor(instance), model: chosen, label: `${instance.displayName} · ${chosen}` };
}

const CAPTION_INSTRUCTION =
  'You describe pictures for someone who cannot see them. In one or two plain sentences, say what the picture shows: ' +
  'the subject, what is happening, any readable text, and the mood. No preamble, no "The image shows".';

/** Asks the captioner to describe one image; returns the caption and what it cost. */
export async function writeCaption(
  captioner: Captioner,
  image: { mimeType: string; width: number; height: number; data: Buffer },
  signal?: AbortSignal,
): Promise<{ caption: string; usage?: ChatUsage }> {
  const stream = captioner.provider.stream({
    model: captioner.model,
    maxTokens: 200,
    signal,
    messages: [
      { role: 'system', content: CAPTION_INSTRUCTION },
      {
        role: 'user',
        content: 'Describe this picture.',
        images: [
          {
            mimeType: image.mimeType,
            data: image.data.toString('base64'),
            tokens: imageTokens(captioner.provider.type, image.width, image.height),
          },
        ],
      },
    ],
  });
  for await (const _delta of stream) {
    // The caption is stored whole.
  }
  const result = await stream.result();
  return { caption: result.text.replace(/\s+/g, ' ').trim().slice(0, 600), usage: result.usage };
}

/**
 * Sets (or with no instance, clears) the server's captioner: one of this
 * server's providers or the operator's, never someone's own key (it would pay
 * for everyone's pictures). Server admins only.
 */
export async function setServerCaptioner(
  em: EntityManager,
  actor: Actor,
  instance: ILlmProviderInstance | undefined,
  model?: string,
): Promise<ServerCaptioner | undefined> {
  if (!actor.guild) throw new UserError('A captioner is set for a server, from inside it.');
  if (!actor.isGuildAdmin) throw new UserError('You need the Manage Server permission to choose this server’s captioner.');
  if (instance && instance.scope === 'user') {
    throw new UserError(
      'The captioner must be one of this server’s providers or the operator’s: your own key would pay for everyone’s pictures.',
    );
  }
  const value = instance
    ? serverCaptionerSchema.parse({ instanceId: instance.id, ...(model?.trim() ? { model: model.trim() } : {}) })
    : undefined;
  await em.execute(
    value
      ? `update guilds set settings = coalesce(settings, '{}'::jsonb) || jsonb_build_object('captioner', ?::jsonb), updated_at = now() where id = ?`
      : `update guilds set settings = coalesce(settings, '{}'::jsonb) - 'captioner', updated_at = now() where id = ?`,
    value ? [JSON.stringify(value), actor.guild.id] : [actor.guild.id],
    'run',
  );
  actor.guild.settings = { ...actor.guild.settings, captioner: value };
  return value;
}
