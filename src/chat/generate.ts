import type { EntityManager } from '@mikro-orm/postgresql';
import type { ICharacter, IConversation } from '../db/entities/index.js';
import type { Embedder } from '../embeddings/embedder.js';
import type { Actor } from '../core/identity.js';
import type { ChatUsage } from '../llm/types.js';
import { fillMacros } from './macros.js';
import { loadLore, selectLore } from '../knowledge/lore.js';
import { personasIn } from '../personas/describe.js';
import {
  buildPrompt,
  type BuiltPrompt,
  type HistoryEntry,
  type PromptCharacter,
  type PromptMemory,
  type PromptPersona,
  type PromptPersonas,
} from './prompt.js';
import type { ReplySink } from './reply-sink.js';
import type { ModelResolver } from './responder.js';
import { recall, type RetrievalOptions } from './retrieval.js';
import { summaryOf } from '../memory/summary.js';
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

/** Lore keywords are looked for in this many of the latest messages. */
const LORE_SCAN_MESSAGES = 4;

const CONTINUE_INSTRUCTION = 'Continue your last message from exactly where it stopped, without repeating it.';

/**
 * One model call for a character: recall memories near the recent messages,
 * build the prompt within the model's context, and stream the answer into the
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
  const [, recalled, lore, resolved, personas] = await Promise.all([
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
      : [],
    // World info is part of the character, not its memory: it works with memory off too.
    loreFor(em.fork(), character.id, history),
    deps.resolveModel({ actor: input.actor, character }),
    personasIn(em.fork(), history),
  ]);
  // A lore entry brought in by its keywords is not repeated as a knowledge chunk.
  const loreIds = new Set(lore.map((memory) => memory.id));
  const memories = [...lore, ...recalled.filter((memory) => !memory.knowledgeId || !loreIds.has(memory.knowledgeId))];
  const maxOutputTokens = character.config.max_tokens ?? 1024;
  const lastSpeaker = [...history].reverse().find((entry) => entry.role === 'user')?.speaker ?? 'the user';
  const promptCharacter = withMacros(character, lastSpeaker);
  if (input.continueFrom !== undefined) {
    const tail = promptCharacter.postHistoryInstructions;
    promptCharacter.postHistoryInstructions = tail ? `${tail}\n${CONTINUE_INSTRUCTION}` : CONTINUE_INSTRUCTION;
  }
  const build = (shown: HistoryEntry[]) =>
    buildPrompt({
      character: promptCharacter,
      history: shown,
      memories,
      budget: { contextWindow: resolved.contextWindow, maxOutputTokens },
      summary: memoryOn && !input.since ? summaryOf(input.conversation)?.text : undefined,
      personas: withPersonaMacros(personas, character.name),
    });
  const answering = { provider: resolved.provider, model: resolved.model, vision: resolved.vision };
  const showImages = (pixels: boolean) =>
    deps.images ? deps.images.forPrompt(em, history, { actor: input.actor, character, answering, pixels }) : { history, pixels: 0, imageIds: [] };
  let seen = await showImages(deps.images?.seesImages(character, answering) ?? false);
  let prompt = build(seen.history);
  const prefix = input.continueFrom ? `${input.continueFrom}` : '';
  const run = async (messages: BuiltPrompt['messages']) => {
    const stream = resolved.provider.stream({
      model: resolved.model,
      messages,
      temperature: character.config.temperature,
      maxTokens: maxOutputTokens,
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
    streamed = await run(prompt.messages);
  } catch (error) {
    // The vendor refused the pictures (a model without vision): the same reply with their captions instead.
    if (!deps.images || !seen.pixels || !refusesImages(error)) throw error;
    deps.images.noteRefusal(answering);
    seen = await showImages(false);
    prompt = build(seen.history);
    streamed = await run(prompt.messages);
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
      ? { captionImages: () => deps.images!.captionMissing(em, history.map((entry) => entry.id), { actor: input.actor, character, answering }) }
      : {}),
  };
}

/** Lore entries whose keywords appear in the last few messages (constant ones always), highest priority first. */
async function loreFor(em: EntityManager, characterId: string, history: HistoryEntry[]): Promise<PromptMemory[]> {
  const items = await loadLore(em, characterId);
  if (!items.length) return [];
  const recent = history.slice(-LORE_SCAN_MESSAGES).map((entry) => entry.content);
  return selectLore(items, recent).map(({ item, trigger }) => ({
    id: item.id,
    kind: 'lore' as const,
    content: item.entry.content,
    knowledgeId: item.id,
    source: { label: `${item.name} (${trigger === 'constant' ? 'always on' : `keyword “${trigger}”`})` },
  }));
}

function joinContinuation(prefix: string, continuation: string): string {
  if (!continuation) return prefix;
  return /\s$/.test(prefix) || /^[\s,.;:!?)]/.test(continuation) ? prefix + continuation : `${prefix} ${continuation}`;
}

/** A persona's description names its player {{user}} and the character {{char}}, as in SillyTavern. */
function withPersonaMacros(personas: PromptPersonas, char: string): PromptPersonas {
  const fill = (persona: PromptPersona) => ({ ...persona, description: fillMacros(persona.description, { char, user: persona.name }) });
  return { ...(personas.user ? { user: fill(personas.user) } : {}), others: personas.others.map(fill) };
}

function withMacros(character: ICharacter, user: string): PromptCharacter {
  const fill = (text: string | null | undefined) => (text ? fillMacros(text, { char: character.name, user }) : text);
  return {
    name: character.name,
    personalityPrompt: fill(character.personalityPrompt)!,
    scenario: fill(character.scenario),
    systemPrompt: fill(character.systemPrompt),
    exampleDialogue: fill(character.exampleDialogue),
    postHistoryInstructions: fill(character.postHistoryInstructions),
  };
}
