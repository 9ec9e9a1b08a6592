import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import type { Actor } from '../core/identity.js';
import type { ICharacter } from '../db/entities/index.js';
import type { Logger } from '../logger.js';
import { ProviderError } from '../llm/errors.js';
import type { ChatProvider } from '../llm/types.js';
import type { ChatImage, HistoryEntry } from '../chat/prompt.js';
import { configuredCaptioner, writeCaption, type Captioner, type ProviderSource } from './captioner.js';
import { fetchImages, type IMAGE_LIMITS, type FetchedImages, type ImageRef } from './fetch-images.js';
import { imageBytes, imageNote, imagesOf, saveCaption, saveImages, type StoredImage } from './store.js';
import type { PreparedImage } from './prepare.js';
import { acceptsImages, imageTokens } from './vision.js';

/** Only the newest few images of a conversation are sent as pixels; older ones go as their captions. */
const PIXEL_IMAGES = 3;

export interface MessageImagesDeps {
  /** The SSRF-guarded fetch (the knowledge download's). */
  fetch: typeof fetch;
  config: Config;
  providers: ProviderSource;
  logger: Logger;
  /** Counts a caption's tokens against the person's limits. */
  spend?: (actor: Actor, tokens: number) => Promise<void>;
  limits?: typeof IMAGE_LIMITS;
}

/** The model that answers, as the image code needs it. */
export interface AnsweringModel {
  provider: ChatProvider;
  model: string;
  vision?: boolean;
}

export interface ImagesInPrompt {
  history: HistoryEntry[];
  /** How many images go as pixels. */
  pixels: number;
  /** Every image the prompt's history notes (pixels or words). */
  imageIds: string[];
}

/**
 * Images in conversations: fetched and kept when posted, sent as pixels to
 * models that take them (the newest PIXEL_IMAGES), and otherwise as captions
 * written once per image by the server's or operator's captioner, or by the
 * character's own provider when it has vision.
 */
export class MessageImages {
  readonly #deps: MessageImagesDeps;
  /** Providers and models that refused an image part: they get captions from now on (per process). */
  readonly #refused = new WeakMap<ChatProvider, Set<string>>();

  constructor(deps: MessageImagesDeps) {
    this.#deps = deps;
  }

  fetch(refs: ImageRef[]): Promise<FetchedImages> {
    return fetchImages(refs, this.#deps.fetch, this.#deps.limits);
  }

  save(em: EntityManager, messageId: string, images: PreparedImage[]): Promise<void> {
    return saveImages(em, messageId, images);
  }

  /** Whether this character's model is sent pixels. */
  seesImages(character: ICharacter, answering: AnsweringModel): boolean {
    if (this.#refused.get(answering.provider)?.has(answering.model)) return false;
    const setting = character.config.vision;
    return acceptsImages(answering.model, { character: setting, provider: answering.vision });
  }

  /** The vendor refused an image part: this model gets captions from now on. */
  noteRefusal(answering: AnsweringModel): void {
    const models = this.#refused.get(answering.provider) ?? new Set<string>();
    models.add(answering.model);
    this.#refused.set(answering.provider, models);
  }

  /**
   * The history as the model should read it: every image noted in words
   * ("[Alice shared an image: …]"), the newest PIXEL_IMAGES also as pixels
   * when `pixels` is on, and captions written first for those that go as words.
   */
  async forPrompt(
    em: EntityManager,
    history: HistoryEntry[],
    input: { actor: Actor; character: ICharacter; answering: AnsweringModel; pixels: boolean },
  ): Promise<ImagesInPrompt> {
    const images = await imagesOf(
      em,
      history.filter((entry) => entry.role === 'user').map((entry) => entry.id),
    );
    if (!images.length) return { history, pixels: 0, imageIds: [] };
    const pixelIds = new Set(input.pixels ? images.slice(-PIXEL_IMAGES).map((image) => image.id) : []);
    await this.#caption(
      em,
      images.filter((image) => !pixelIds.has(image.id)),
      input,
    );
    const bytes = await imageBytes(em, [...pixelIds]);
    const byMessage = new Map<string, StoredImage[]>();
    for (const image of images) byMessage.set(image.messageId, [...(byMessage.get(image.messageId) ?? []), image]);
    const type = input.answering.provider.type;
    const shown = history.map((entry): HistoryEntry => {
      const own = byMessage.get(entry.id);
      if (!own) return entry;
      const notes = own.map((image) => imageNote(entry.speaker, pixelIds.has(image.id) ? null : image.caption));
      const pixels: ChatImage[] = own
        .filter((image) => bytes.has(image.id))
        .map((image) => ({
          mimeType: image.mimeType,
          data: bytes.get(image.id)!.toString('base64'),
          tokens: imageTokens(type, image.width, image.height),
        }));
      return {
        ...entry,
        content: [entry.content.trim(), ...notes].filter(Boolean).join('\n'),
        ...(pixels.length ? { images: pixels } : {}),
      };
    });
    return { history: shown, pixels: bytes.size, imageIds: images.map((image) => image.id) };
  }

  /** Captions the images of these messages that have none yet (after a reply, so memory has them). */
  async captionMissing(
    em: EntityManager,
    messageIds: string[],
    input: { actor: Actor; character: ICharacter; answering: AnsweringModel },
  ): Promise<void> {
    const images = await imagesOf(em, messageIds);
    await this.#caption(em, images, input);
  }

  /** Writes the missing captions of `images` (in place); a captioner's failure leaves them without one. */
  async #caption(
    em: EntityManager,
    images: StoredImage[],
    input: { actor: Actor; character: ICharacter; answering: AnsweringModel },
  ): Promise<void> {
    const missing = images.filter((image) => !image.caption);
    if (!missing.length) return;
    const captioner = await this.#captioner(em, input);
    if (!captioner) return;
    const bytes = await imageBytes(
      em,
      missing.map((image) => image.id),
    );
    for (const image of missing) {
      const data = bytes.get(image.id);
      if (!data) continue;
      try {
        const { caption, usage } = await writeCaption(captioner, { ...image, data });
        if (usage) await this.#deps.spend?.(input.actor, usage.inputTokens + usage.outputTokens);
        if (caption) image.caption = await saveCaption(em, image.id, caption, captioner.label);
      } catch (error) {
        if (refusesImages(error) && captioner.provider === input.answering.provider) this.noteRefusal(input.answering);
        this.#deps.logger.warn({ err: error, image: image.id }, 'could not caption an image');
        return;
      }
    }
  }

  async #captioner(
    em: EntityManager,
    input: { actor: Actor; character: ICharacter; answering: AnsweringModel },
  ): Promise<Captioner | undefined> {
    const configured = await configuredCaptioner(em, this.#deps, input.actor);
    if (configured) return configured;
    if (!this.seesImages(input.character, input.answering)) return undefined;
    return { provider: input.answering.provider, model: input.answering.model, label: input.answering.model };
  }
}

/** A vendor's refusal of an image part (a model without vision, images turned off), as opposed to any other failure. */
export function refusesImages(error: unknown): boolean {
  if (!(error instanceof ProviderError) || error.status === undefined || error.status < 400 || error.status > 500) return false;
  const words = `${error.userMessage} ${error.cause instanceof Error ? error.cause.message : ''} ${errorBody(error.cause)}`;
  return /image|vision|multi-?modal/i.test(words);
}

function errorBody(cause: unknown): string {
  const body = (cause as { error?: unknown } | undefined)?.error;
  return body === undefined ? '' : JSON.stringify(body);
}
