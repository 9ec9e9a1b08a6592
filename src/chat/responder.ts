import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Conversation, Message, StoryBranch, type ICharacter, type IConversation, type IMessage } from '../db/entities/index.js';
import type { Embedder } from '../embeddings/embedder.js';
import { resolveActor, type Actor, type DiscordGuildRef, type DiscordUserRef } from '../core/identity.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ProviderError } from '../llm/errors.js';
import { bannedRefusal } from '../permissions/content.js';
import { accessOf } from '../permissions/guild-settings.js';
import type { ChatProvider } from '../llm/types.js';
import { queueMemorize } from '../memory/memorize.js';
import { queueSummarize } from '../memory/summary.js';
import { DEFAULT_NOTES_DELAY_MS, queueNotes } from '../memory/notes-job.js';
import type { JobQueue } from '../queue/job-queue.js';
import { findBinding, noteVisibility, replyModeOf } from './conversations.js';
import { generate, type Generation } from './generate.js';
import { HISTORY_FETCH_LIMIT, historyBefore, recentHistory, storeUserMessage } from './history.js';
import { greetingsOf } from './greetings.js';
import { fillMacros } from './macros.js';
import { mentionsName } from './mentions.js';
import { explainFailure } from './failure.js';
import type { ReplySink, Speaker } from './reply-sink.js';
import type { HistoryEntry, MessageRef, PromptMemory } from './prompt.js';
import type { RetrievalOptions } from './retrieval.js';
import type { ReplyBudget } from '../usage/budget.js';
import type { ImageRef } from '../images/fetch-images.js';
import type { MessageImages } from '../images/message-images.js';
import { spendingMetadata, tokensOf as spentTokens } from '../usage/spending.js';

/** The provider instance and model that answer for one character, decided by the provider resolution rules. */
export interface ResolvedModel {
  provider: ChatProvider;
  model: string;
  /** The model's context window in tokens. */
  contextWindow: number;
  /** The instance's setting for image input; unset, the model's name decides. */
  vision?: boolean;
}

export type ModelResolver = (request: { actor: Actor; character: ICharacter }) => Promise<ResolvedModel>;

/** A message someone wrote where a character may be listening. */
export interface IncomingMessage {
  channelId: string;
  discordMessageId?: string;
  author: DiscordUserRef & { displayName?: string };
  guild?: DiscordGuildRef;
  content: string;
  /** The bot or a character was mentioned or replied to. */
  addressed: boolean;
  /** Every member of the server can read the channel (undefined: not known, or a DM). */
  channelPublic?: boolean;
  /** The persona the person speaks as here: its name is how the conversation names them. */
  persona?: SpeakingPersona;
  /** The Discord message the person wrote, when this one is its repost as their persona. */
  proxiedFrom?: string;
  /** Pictures attached or embedded: fetched and kept once the message is known to belong to a conversation. */
  images?: ImageRef[];
  /** Tells the person something plainly (a file that was left out). */
  notice?: (text: string) => Promise<void>;
  /** Called once the message is stored (or left out), so the channel's next message may be taken. */
  stored?: () => void;
}

/** A persona as a message carries it: `nsfw` says it is one, worn where NSFW may run. */
export interface SpeakingPersona {
  id: string;
  name: string;
  nsfw?: boolean;
}

/** Makes the sink a reply is written into; `messageIds` are the Discord messages of a reply being rewritten. */
/**
 * Opens the sink a character's reply is written into: new messages, or with
 * `messageIds` those messages rewritten. `onPosted` hears every message id the
 * reply shows as soon as a new one is posted (a reply job keeps them durably).
 */
export type SinkFactory = (speaker: Speaker, messageIds?: string[], onPosted?: (messageIds: string[]) => Promise<void>) => ReplySink;

export interface ResponderDeps {
  orm: MikroORM;
  embedder: Embedder;
  resolveModel: ModelResolver;
  logger: Logger;
  /** Where finished replies are queued to be memorized (and long conversations summarised); none in some tools. */
  queue?: JobQueue;
  historyLimit?: number;
  retrieval?: RetrievalOptions;
  /** How long after a reply its notes job runs (one model call then reads the burst of exchanges); default 30 s. */
  notesDelayMs?: number;
  /** Images posted in conversations; none: they are left out. */
  images?: MessageImages;
  /** Told about every reply attempt (metrics); must not throw. */
  observe?: (event: ReplyEvent) => void;
  /** Per-person and per-server limits, checked before each reply attempt; none means unlimited. */
  budget?: ReplyBudget;
  /**
   * When set, replies are not written here: each addressed message becomes a
   * reply job for whichever process consumes the reply queue (scale-out).
   */
  dispatch?: (job: ReplyJob) => Promise<void>;
}

/** Who wrote a message, and the stored row (none when that Discord message was stored before). */
export interface StoredMessage {
  actor: Actor;
  stored?: { id: string; createdAt: Date };
}

/** A reply to write, for a reply-queue consumer: the conversation, the message that asked, and who asked. */
export interface ReplyJob {
  conversationId: string;
  /** When the person's message was stored: a reply that saw it answers it. */
  messageAt: string;
  actor: { userId: string; guildId?: string; isGuildAdmin: boolean };
}

/** One reply attempt, for metrics: how long it took and how it ended. */
export interface ReplyEvent {
  ok: boolean;
  /** From the start of recall to the end of the stream. */
  ms: number;
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** Why it failed: a provider error kind, 'user' (a refusal in plain words) or 'internal'. */
  failure?: string;
}

/** A conversation already loaded, with the EntityManager that loaded it. */
interface Loaded {
  em: EntityManager;
  conversation: IConversation;
}

export type MessageOutcome = 'not-bound' | 'stored' | 'queued' | 'replied';

/**
 * The heart of chatting: stores each message of a bound channel and, when the
 * character is addressed, has it answer. Replies are made one at a time per
 * conversation; messages that arrive meanwhile are answered together by the
 * next reply, never twice.
 */
export class Responder {
  readonly #deps: ResponderDeps;
  readonly #busy = new Map<string, { again: boolean; actor: Actor; sinks: SinkFactory }>();
  /** Who wrote recently, to spare two upserts per message; names and server settings refresh within a minute. */
  readonly #actors = new Map<string, { at: number; actor: Actor }>();

  constructor(deps: ResponderDeps) {
    this.#deps = deps;
  }

  async onMessage(message: IncomingMessage, sinks: SinkFactory): Promise<MessageOutcome> {
    const em = this.#deps.orm.em.fork();
    const conversation = await findBinding(em, message.channelId);
    if (!conversation?.character) return 'not-bound';
    const { actor, stored } = await this.storeMessage(em, conversation, message);
    const addressed = message.addressed || mentionsName(message.content, conversation.character.name);
    if (!addressed && replyModeOf(conversation) === 'mentions') return 'stored';
    // Seen before (the same Discord message twice, or handled again after a lost
    // database connection): it was answered or queued then; never answer twice.
    if (!stored) return 'stored';
    if (this.#deps.dispatch) {
      await this.#deps.dispatch({
        conversationId: conversation.id,
        messageAt: stored.createdAt.toISOString(),
        actor: { userId: actor.user.id, guildId: actor.guild?.id, isGuildAdmin: actor.isGuildAdmin },
      });
      return 'queued';
    }
    const running = this.#busy.get(conversation.id);
    if (running) {
      Object.assign(running, { again: true, actor, sinks });
      return 'queued';
    }
    const state = { again: true, actor, sinks };
    this.#busy.set(conversation.id, state);
    try {
      let loaded: Loaded | undefined = { em, conversation };
      while (state.again) {
        state.again = false;
        // The first reply reuses what was just loaded; later ones load afresh.
        await this.reply(conversation.id, state.actor, state.sinks, loaded);
        loaded = undefined;
      }
    } finally {
      this.#busy.delete(conversation.id);
    }
    return 'replied';
  }

  /**
   * The greeting of the bound character (or, in a scene, of `as`), posted and stored as its line in the conversation.
   * A card's other greetings are stored as versions of it to swipe through (◀ ▶); the one chosen is what the history
   * keeps. Throws a UserError saying so when it could not be posted.
   */
  async greet(conversationId: string, userName: string, sinks: SinkFactory, as?: ICharacter): Promise<void> {
    const em = this.#deps.orm.em.fork();
    const found = await loadConversation(em, conversationId);
    const { conversation } = found;
    const character = as ?? found.character;
    if (!character) return;
    const texts = greetingsOf(character, { group: as !== undefined }).map((greeting) =>
      fillMacros(greeting, { char: character.name, user: userName }),
    );
    const text = texts[0];
    if (!text?.trim()) return;
    const greeting = em.create(Message, { conversation, role: 'assistant', content: text, character, metadata: { greeting: true } });
    if (texts.length > 1) {
      texts.forEach((content, branchOrder) =>
        em.create(StoryBranch, {
          conversation,
          message: greeting,
          content,
          branchOrder,
          isSelected: branchOrder === 0,
          generationParams: {},
        }),
      );
    }
    await em.flush();
    const shown = await sinks(speakerOf(character)).finish(text, {
      messageId: greeting.id,
      model: 'greeting',
      greeting: true,
      alternative: { index: 1, count: texts.length },
    });
    if (!(shown.shown ?? shown.messageIds.length > 0)) {
      // Nothing reached the channel (the sink logged why): the greeting is not part of the conversation, and the
      // person who brought the character in is told, rather than left looking at "is here" and silence.
      await em.nativeDelete(StoryBranch, { message: greeting.id });
      await em.remove(greeting).flush();
      throw new UserError(
        `${character.name}'s greeting could not be posted here, so it was left out. ${character.name} still answers messages. ` +
          'If this keeps happening, check that the bot may send messages and manage webhooks in this channel.',
      );
    }
    await rememberShown(em, greeting as IMessage, shown.messageIds);
  }

  /**
   * Writes one new reply to the conversation as it stands: by the bound
   * character, or in a scene by `as.character`, knowing only what was said
   * from `as.since` on. Returns the reply's text, or undefined when it failed
   * (the error is shown on the reply).
   */
  async reply(
    conversationId: string,
    actor: Actor,
    sinks: SinkFactory,
    loaded?: Loaded,
    as?: { character: ICharacter; since?: Date },
  ): Promise<string | undefined> {
    const em = loaded?.em ?? this.#deps.orm.em.fork();
    const found = loaded
      ? { conversation: loaded.conversation, character: loaded.conversation.character }
      : await loadConversation(em, conversationId);
    const { conversation } = found;
    const character = as?.character ?? found.character;
    if (!character) return undefined;
    const sink = sinks(speakerOf(character));
    if (!(await this.#withinLimits(actor, sink))) return undefined;
    const history = await recentHistory(em, conversation.id, this.#deps.historyLimit ?? HISTORY_FETCH_LIMIT, as?.since);
    const generation = await this.#generateInto(em, sink, { conversation, character, actor, history, since: as?.since });
    if (!generation) return undefined;
    const reply = em.create(Message, {
      conversation,
      role: 'assistant',
      content: generation.text,
      character,
      model: generation.model.slice(0, 100),
      tokensUsed: tokensOf(generation),
      metadata: {
        ...replyMetadata(generation),
        ...spendingMetadata(undefined, generation, actor.user.id, true),
        // The person this reply answers: its memory is theirs.
        answered: actor.user.id,
        ...(as?.since ? { knowsSince: as.since.toISOString() } : {}),
        // The newest message this reply saw: reply jobs for messages up to here are done.
        ...(history.at(-1)?.at ? { answeredUpTo: history.at(-1)!.at!.toISOString() } : {}),
      },
    });
    em.create(StoryBranch, {
      conversation,
      message: reply,
      content: generation.text,
      branchOrder: 0,
      isSelected: true,
      generationParams: branchParams(generation, character),
    });
    conversation.messageCount += 1;
    conversation.totalTokens += reply.tokensUsed ?? 0;
    await em.flush();
    const shown = await sink.finish(generation.text, finishInfo(reply as IMessage, generation, 1, 1));
    await rememberShown(em, reply as IMessage, shown.messageIds);
    await this.#captionImages(generation);
    await this.#memorize(reply as IMessage);
    await this.#summarizeIfLong(conversation, character, actor, history, generation);
    return generation.text;
  }

  /** A new alternative for the latest reply (regenerate); the history keeps the new one. */
  async regenerate(messageId: string, actor: Actor, sinks: SinkFactory): Promise<void> {
    const em = this.#deps.orm.em.fork();
    const { reply, conversation, character } = await this.#latestReply(em, messageId);
    await this.#withinLimits(actor);
    const sink = sinks(speakerOf(character), shownIds(reply));
    const since = knowsSince(reply);
    const history = await historyBefore(em, reply, this.#deps.historyLimit ?? HISTORY_FETCH_LIMIT, since);
    const generation = await this.#generateInto(em, sink, { conversation, character, actor, history, since });
    if (!generation) return;
    const branches = await em.find(StoryBranch, { message: reply.id }, { orderBy: { branchOrder: 'asc' } });
    for (const branch of branches) branch.isSelected = false;
    em.create(StoryBranch, {
      conversation,
      message: reply,
      content: generation.text,
      branchOrder: branches.length,
      isSelected: true,
      generationParams: branchParams(generation, character),
    });
    Object.assign(reply, {
      content: generation.text,
      model: generation.model.slice(0, 100),
      tokensUsed: tokensOf(generation),
      metadata: { ...reply.metadata, ...replyMetadata(generation), ...spendingMetadata(reply.metadata, generation, actor.user.id, true) },
    });
    await em.flush();
    const count = branches.length + 1;
    const shown = await sink.finish(generation.text, finishInfo(reply, generation, count, count));
    await rememberShown(em, reply, shown.messageIds);
    await this.#captionImages(generation);
    await this.#memorize(reply);
  }

  /** Extends the latest reply where it stopped. */
  async continueReply(messageId: string, actor: Actor, sinks: SinkFactory): Promise<void> {
    const em = this.#deps.orm.em.fork();
    const { reply, conversation, character } = await this.#latestReply(em, messageId);
    await this.#withinLimits(actor);
    const sink = sinks(speakerOf(character), shownIds(reply));
    const since = knowsSince(reply);
    const history = await recentHistory(em, conversation.id, this.#deps.historyLimit ?? HISTORY_FETCH_LIMIT, since);
    const generation = await this.#generateInto(em, sink, {
      conversation,
      character,
      actor,
      history,
      since,
      continueFrom: reply.content,
    });
    if (!generation) return;
    const branch = await em.findOne(StoryBranch, { message: reply.id, isSelected: true });
    if (branch) branch.content = generation.text;
    reply.content = generation.text;
    reply.tokensUsed = (reply.tokensUsed ?? 0) + tokensOf(generation)!;
    reply.metadata = { ...reply.metadata, ...spendingMetadata(reply.metadata, generation, actor.user.id, false) };
    await em.flush();
    const count = await em.count(StoryBranch, { message: reply.id });
    const index = (branch?.branchOrder ?? 0) + 1;
    const shown = await sink.finish(generation.text, finishInfo(reply, generation, index, count));
    await rememberShown(em, reply, shown.messageIds);
    await this.#captionImages(generation);
    await this.#memorize(reply);
  }

  /**
   * Shows another stored alternative of the latest reply (swipe ◀ ▶). The
   * chosen one becomes the reply's content, which is what the history keeps.
   */
  async swipe(messageId: string, step: -1 | 1, sinks: SinkFactory): Promise<void> {
    const em = this.#deps.orm.em.fork();
    const { reply, character } = await this.#latestReply(em, messageId);
    const branches = await em.find(StoryBranch, { message: reply.id }, { orderBy: { branchOrder: 'asc' } });
    if (branches.length < 2) throw new UserError('There is only one version of this reply. Press 🔄 to write another.');
    const current = Math.max(
      0,
      branches.findIndex((branch) => branch.isSelected),
    );
    const next = (current + step + branches.length) % branches.length;
    branches.forEach((branch, i) => (branch.isSelected = i === next));
    reply.content = branches[next]!.content;
    // Each alternative keeps what went into its prompt.
    const sources = (branches[next]!.generationParams as { sources?: ReplySource[] } | null)?.sources;
    if (sources) reply.metadata = { ...reply.metadata, sources };
    await em.flush();
    const greeting = Boolean((reply.metadata as { greeting?: boolean }).greeting);
    const shown = await sinks(speakerOf(character), shownIds(reply)).finish(reply.content, {
      messageId: reply.id,
      model: greeting ? 'greeting' : (reply.model ?? ''),
      ...(greeting ? { greeting } : {}),
      alternative: { index: next + 1, count: branches.length },
      sources:
        ((reply.metadata as { sources?: unknown[] }).sources ?? []).length +
        ((reply.metadata as { images?: unknown[] }).images ?? []).length,
    });
    await rememberShown(em, reply, shown.messageIds);
    await this.#memorize(reply);
  }

  /** A person's data was deleted: their cached user row must not be used again. */
  forgetUser(discordUserId: string): void {
    for (const key of this.#actors.keys()) if (key.startsWith(`${discordUserId}:`)) this.#actors.delete(key);
  }

  /**
   * Stores what someone wrote in a conversation (a bound channel or a scene),
   * with its pictures, and returns who wrote it. Files that are no pictures, or
   * too large, are left out with a plain notice; a message left with nothing
   * is not stored.
   */
  async storeMessage(em: EntityManager, conversation: IConversation, message: IncomingMessage): Promise<StoredMessage> {
    try {
      return await this.#store(em, conversation, message);
    } finally {
      message.stored?.();
    }
  }

  async #store(em: EntityManager, conversation: IConversation, message: IncomingMessage): Promise<StoredMessage> {
    const actor = await this.#actor(em, message);
    await noteVisibility(em, conversation, message.channelPublic);
    const persona = message.persona;
    const fetched = message.images?.length && this.#deps.images ? await this.#deps.images.fetch(message.images) : undefined;
    if (fetched?.refused.length) {
      await message
        .notice?.(fetched.refused.join('\n'))
        .catch((error: unknown) => this.#deps.logger.warn({ err: error }, 'could not give a notice'));
    }
    if (!message.content.trim() && !fetched?.images.length) return { actor };
    const stored = await storeUserMessage(em, {
      conversation,
      author: actor.user,
      authorName: persona?.name ?? message.author.displayName ?? message.author.username,
      content: message.content,
      discordMessageId: message.discordMessageId,
      metadata: {
        ...(persona ? { persona: { id: persona.id, ...(persona.nsfw ? { nsfw: true } : {}) } } : {}),
        ...(message.proxiedFrom ? { proxiedFrom: message.proxiedFrom } : {}),
      },
    });
    if (stored && fetched?.images.length) await this.#deps.images!.save(em, stored.id, fetched.images);
    return { actor, stored };
  }

  /** Captions the images the reply saw that have none yet, so its memory can say what they showed; a failure only costs the caption. */
  async #captionImages(generation: Generation): Promise<void> {
    await generation.captionImages?.().catch((error: unknown) => this.#deps.logger.warn({ err: error }, 'could not caption images'));
  }

  /** The chosen version of a finished reply goes to the memorize queue; a queue outage only costs that memory. */
  async #memorize(reply: IMessage): Promise<void> {
    if (!this.#deps.queue) return;
    await queueMemorize(this.#deps.queue, reply).catch((error: unknown) =>
      this.#deps.logger.warn({ err: error, message: reply.id }, 'could not queue a memory'),
    );
    // Notes about the person: a lost job is made up by the next one (it reads every exchange not read yet).
    await queueNotes(this.#deps.queue, reply, this.#deps.notesDelayMs ?? DEFAULT_NOTES_DELAY_MS).catch((error: unknown) =>
      this.#deps.logger.warn({ err: error, message: reply.id }, 'could not queue note-taking'),
    );
  }

  /** Once the prompt no longer holds the whole conversation, older messages are summarised in the background. */
  async #summarizeIfLong(
    conversation: IConversation,
    character: ICharacter,
    actor: Actor,
    history: HistoryEntry[],
    generation: Generation,
  ) {
    const windowStartId = generation.prompt.includedHistory[0];
    const full = generation.prompt.droppedHistory > 0 || history.length >= (this.#deps.historyLimit ?? HISTORY_FETCH_LIMIT);
    if (!this.#deps.queue || !full || !windowStartId || character.config.memory_enabled === false) return;
    await queueSummarize(
      this.#deps.queue,
      {
        conversationId: conversation.id,
        characterId: character.id,
        userId: actor.user.id,
        guildId: actor.guild?.id,
        windowStartId,
      },
      conversation,
    ).catch((error: unknown) => this.#deps.logger.warn({ err: error, conversation: conversation.id }, 'could not queue a summary'));
  }

  async #actor(em: EntityManager, message: IncomingMessage): Promise<Actor> {
    const key = `${message.author.id}:${message.author.username}:${message.guild?.id ?? ''}`;
    const cached = this.#actors.get(key);
    if (cached && Date.now() - cached.at < 60_000) return cached.actor;
    const actor = await resolveActor(em, { user: message.author, guild: message.guild });
    if (this.#actors.size > 10_000) this.#actors.clear();
    this.#actors.set(key, { at: Date.now(), actor });
    return actor;
  }

  /**
   * Counts a reply attempt against the limits. Over one, nothing is generated:
   * the polite refusal goes on the sink, or (no sink: a button was pressed on
   * a reply, which stays as it is) to the person as a UserError.
   */
  async #withinLimits(actor: Actor, sink?: ReplySink): Promise<boolean> {
    const refusal = await this.#deps.budget?.admit(actor);
    if (!refusal) return true;
    this.#deps.observe?.({ ok: false, ms: 0, failure: 'limit' });
    if (!sink) throw new UserError(refusal);
    await sink.fail(refusal).catch((error: unknown) => this.#deps.logger.warn({ err: error }, 'could not show a usage limit'));
    return false;
  }

  async #generateInto(
    em: EntityManager,
    sink: ReplySink,
    input: Parameters<typeof generate>[2] extends infer T ? Omit<T, 'sink'> : never,
  ): Promise<Generation | undefined> {
    const started = performance.now();
    try {
      // Banned by the server's admins since it was started (regenerate, scene rounds, queued replies included).
      if (input.actor.guild && accessOf(input.actor.guild).bannedCharacters.includes(input.character.id)) {
        throw new UserError(bannedRefusal(input.character.name));
      }
      const generation = await generate(this.#deps, em, { ...input, sink });
      this.#deps.observe?.({
        ok: true,
        ms: performance.now() - started,
        model: generation.model,
        inputTokens: generation.usage?.inputTokens,
        outputTokens: generation.usage?.outputTokens,
      });
      // Without usage from the provider, the prompt's own count stands in for the tokens spent.
      await this.#deps.budget?.spend(input.actor, spentTokens(generation.usage) || generation.prompt.promptTokens);
      return generation;
    } catch (error) {
      const failure = explainFailure(error);
      this.#deps.observe?.({ ok: false, ms: performance.now() - started, failure: failureKind(error) });
      const log = this.#deps.logger.child({ conversation: input.conversation.id, character: input.character.id });
      if (failure.errorId) log.error({ err: error, errorId: failure.errorId }, 'reply failed');
      else log.warn({ err: error }, 'reply failed');
      await sink.fail(failure.message).catch((sinkError: unknown) => log.error({ err: sinkError }, 'could not show the error'));
      return undefined;
    }
  }

  async #latestReply(em: EntityManager, messageId: string) {
    const reply = (await em.findOne(
      Message,
      { id: messageId, role: 'assistant' },
      {
        populate: ['conversation', 'character'],
      },
    )) as IMessage | null;
    if (!reply?.character) throw new UserError('That reply no longer exists.');
    const latest = await em.findOne(
      Message,
      { conversation: reply.conversation.id, role: 'assistant', character: reply.character.id },
      { orderBy: { createdAt: 'desc', id: 'desc' } },
    );
    if (latest?.id !== reply.id) throw new UserError('Only the latest reply can be changed: older ones are part of the story now.');
    return { reply, conversation: reply.conversation as IConversation, character: reply.character };
  }
}

async function loadConversation(em: EntityManager, conversationId: string) {
  const conversation = (await em.findOneOrFail(Conversation, conversationId, { populate: ['character'] })) as IConversation;
  return { conversation, character: conversation.character };
}

function failureKind(error: unknown): string {
  if (error instanceof ProviderError) return error.kind;
  return error instanceof UserError ? 'user' : 'internal';
}

function speakerOf(character: ICharacter): Speaker {
  return { characterId: character.id, name: character.name, avatarUrl: character.avatarUrl };
}

/** A scene character that joined late knows only what was said from then on; kept with its replies for regenerating them. */
function knowsSince(message: IMessage): Date | undefined {
  const stored = (message.metadata as { knowsSince?: string }).knowsSince;
  return stored ? new Date(stored) : undefined;
}

function shownIds(message: IMessage): string[] {
  const ids = (message.metadata as { discordMessageIds?: string[] }).discordMessageIds;
  return ids ?? (message.discordMessageId ? [message.discordMessageId] : []);
}

async function rememberShown(em: EntityManager, message: IMessage, ids: string[]): Promise<void> {
  if (!ids.length) return;
  message.discordMessageId = ids[0]!;
  message.metadata = { ...message.metadata, discordMessageIds: ids };
  await em.flush();
}

function tokensOf(generation: Generation): number | null {
  return generation.usage ? generation.usage.inputTokens + generation.usage.outputTokens : null;
}

function replyMetadata(generation: Generation): Record<string, unknown> {
  return {
    promptTokens: generation.prompt.promptTokens,
    sources: sourcesOf(generation.prompt),
    usage: generation.usage ?? null,
    finishReason: generation.finishReason ?? null,
    ...(generation.imageIds?.length ? { images: generation.imageIds } : {}),
  };
}

/**
 * What went into the prompt, kept with the reply for its Sources button (texts are read live, so forgetting works).
 * A note about the person answered is kept by its id alone: whose it is, and so who may read it, is read live too.
 */
export interface ReplySource {
  kind: PromptMemory['kind'] | 'note' | 'pin';
  /** The memory's id; a lore entry's knowledge item id; a note's id; a pinned message's stored id. */
  id: string;
  score?: number;
  label?: string;
  url?: string;
  jump?: MessageRef;
  userId?: string;
}

function branchParams(generation: Generation, character: ICharacter): Record<string, unknown> {
  return { model: generation.model, temperature: character.config.temperature ?? null, sources: sourcesOf(generation.prompt) };
}

/** The lore its rules brought in, the notes about the person answered, the pinned messages, then the recalled memories. */
function sourcesOf(prompt: Generation['prompt']): ReplySource[] {
  const lore: ReplySource[] = prompt.lore.map((entry) => ({ kind: 'lore', id: entry.id, ...entry.source }));
  return [
    ...lore,
    ...prompt.includedNotes.map((id): ReplySource => ({ kind: 'note', id })),
    ...prompt.includedPins.map((id): ReplySource => ({ kind: 'pin', id })),
    ...prompt.memories.map((memory) => ({
      kind: memory.kind,
      id: memory.id,
      ...(memory.score === undefined ? {} : { score: Math.round(memory.score * 1000) / 1000 }),
      ...memory.source,
    })),
  ];
}

function finishInfo(reply: IMessage, generation: Generation, index: number, count: number) {
  return {
    messageId: reply.id,
    model: generation.model,
    inputTokens: generation.usage?.inputTokens,
    outputTokens: generation.usage?.outputTokens,
    alternative: { index, count },
    sources: sourcesOf(generation.prompt).length + (generation.imageIds?.length ?? 0),
  };
}
