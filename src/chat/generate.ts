import type { EntityManager } from '@mikro-orm/postgresql';
import type { ICharacter, IConversation } from '../db/entities/index.js';
import type { Embedder } from '../embeddings/embedder.js';
import type { Actor } from '../core/identity.js';
import type { ChatUsage } from '../llm/types.js';
import { fillMacros } from './macros.js';
import { personasIn } from '../personas/describe.js';
import { buildPrompt, type BuiltPrompt, type HistoryEntry, type PromptMemory, type PromptPersona, type PromptPersonas } from './prompt.js';
import { answeredLine, assemblePrompt } from './prompt-input.js';
import type { ReplySink } from './reply-sink.js';
import type { ModelResolver } from './responder.js';
import { recall, type RetrievalOptions } from './retrieval.js';
import { refusesImages, type MessageImages } from '../images/message-images.js';

export interface GenerationDeps {
  embedder: Embedder;
  resolveModel: ModelResolver;
  retrieval?: RetrievalOptions;
  /** Images in the conversation (pixels for vision models, captions for the others); none: images are left out. */
  images?: MessageImages;
}

export interface Generation {
  text: string;
  model: string;
  usage?: ChatUsage;
  finishReason?: string;
  prompt: BuiltPrompt;
  /** The stored images the prompt's history showed (as pixels or captions). */
  imageIds?: string[];
  /** Writes the captions still missing for the images this reply saw (for memory); call once the reply is shown. */
  captionImages?: () => Promise<void>;
}

/**
 * One model call for a character: recall memories near the recent messages, activate its lorebook, build the
 * prompt within the model's context (src/chat/prompt.ts: SillyTavern's order), and stream the answer into the
 * sink. With `continueFrom`, the answer extends that text instead.
 */
export async function generate(
  deps: GenerationDeps,
  em: EntityManager,
  input: {
    conversation: IConversation;
    character: ICharacter;
    actor: Actor;
    history: HistoryEntry[];
    sink: ReplySink;
    continueFrom?: string;
    /** What the character could know starts here (it joined a scene late). */
    since?: Date;
  },
): Promise<Generation> {
  const { character, history, sink } = input;
  // The typing indicator, recall and provider resolution do not depend on each other.
  const memoryOn = character.config.memory_enabled !== false;
  const [, recalled, resolved] = await Promise.all([
    sink.typing(),
    memoryOn
      ? recall(em, deps.embedder, {
          characterId: character.id,
          conversationId: input.conversation.id,
          recent: history,
          userId: input.actor.user.id,
          guildId: input.actor.guild?.discordId ?? '',
          direct: input.conversation.kind === 'dm',
          shared: character.config.shared_memory,
          since: input.since,
          options: deps.retrieval,
        })
      : ([] as PromptMemory[]),
    deps.resolveModel({ actor: input.actor, character }),
  ]);
  // On the reply's own EntityManager: a fork would wait for the one connection of the embedded database.
  const personas = withPersonaMacros(await personasIn(em, history, answeredLine(history, input.actor)), character.name);
  const { promptInput, saveLoreState } = await assemblePrompt(em, {
    conversation: input.conversation,
    character,
    actor: input.actor,
    history,
    recalled,
    contextWindow: resolved.contextWindow,
    continuing: input.continueFrom !== undefined,
    since: input.since,
    personaDescription: personas.user?.description,
  });
  const build = (shown: HistoryEntry[]) => buildPrompt({ ...promptInput, history: shown, personas });
  const answering = { provider: resolved.provider, model: resolved.model, vision: resolved.vision };
  const showImages = (pixels: boolean) =>
    deps.images
      ? deps.images.forPrompt(em, history, { actor: input.actor, character, answering, pixels })
      : { history, pixels: 0, imageIds: [] };
  let seen = await showImages(deps.images?.seesImages(character, answering) ?? false);
  let prompt = build(seen.history);
  await saveLoreState();
  const prefix = input.continueFrom ? `${input.continueFrom}` : '';
  const run = async (built: BuiltPrompt) => {
    const stream = resolved.provider.stream({
      model: resolved.model,
      messages: built.messages,
      temperature: character.config.temperature,
      maxTokens: built.maxOutputTokens,
      names: { user: built.user, char: character.name },
      contextWindow: resolved.contextWindow,
    });
    let text = prefix;
    for await (const delta of stream) {
      text += delta;
      sink.update(text);
    }
    return { text, result: await stream.result() };
  };
  let streamed: Awaited<ReturnType<typeof run>>;
  try {
    streamed = await run(prompt);
  } catch (error) {
    // The vendor refused the pictures (a model without vision): the same reply with their captions instead.
    if (!deps.images || !seen.pixels || !refusesImages(error)) throw error;
    deps.images.noteRefusal(answering);
    seen = await showImages(false);
    prompt = build(seen.history);
    streamed = await run(prompt);
  }
  const { text, result } = streamed;
  const generated = result.text || text.slice(prefix.length);
  return {
    text: prefix ? joinContinuation(prefix, generated) : generated,
    model: result.model,
    usage: result.usage,
    finishReason: result.finishReason,
    prompt,
    imageIds: seen.imageIds,
    ...(deps.images && seen.imageIds.length
      ? {
          captionImages: () =>
            deps.images!.captionMissing(
              em,
              history.map((entry) => entry.id),
              { actor: input.actor, character, answering },
            ),
        }
      : {}),
  };
}

function joinContinuation(prefix: string, continuation: string): string {
  if (!continuation) return prefix;
  return /\s$/.test(prefix) || /^[\s,.;:!?)]/.test(continuation) ? prefix + continuation : `${prefix} ${continuation}`;
}

/** A persona's description names its player {{user}} and the character {{char}}, as in SillyTavern. */
export function withPersonaMacros(personas: PromptPersonas, char: string): PromptPersonas {
  const fill = (persona: PromptPersona) => ({ ...persona, description: fillMacros(persona.description, { char, user: persona.name }) });
  return { ...(personas.user ? { user: fill(personas.user) } : {}), others: personas.others.map(fill) };
}
