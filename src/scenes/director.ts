import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { DraftSinks } from '../chat/draft-sinks.js';
import { recentHistory } from '../chat/history.js';
import type { IncomingMessage, ModelResolver, Responder, SinkFactory } from '../chat/responder.js';
import type { Actor } from '../core/identity.js';
import { Conversation, Message, type ICharacter, type IConversation } from '../db/entities/index.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ReplyDrafts } from '../queue/drafts.js';
import { explainFailure } from '../chat/failure.js';
import {
  assertCanDirect,
  findScene,
  findSceneHeader,
  knowsSince,
  participantNamed,
  saveSettings,
  seatsOf,
  type SceneCast,
} from './scenes.js';
import { chooseFollowUp, chooseSpeakers } from './turns.js';

export interface DirectorDeps {
  orm: MikroORM;
  responder: Responder;
  resolveModel: ModelResolver;
  logger: Logger;
  /** How long to wait for more people's messages before a round starts (default 1.5 s). */
  debounceMs?: number;
  /** Where replies note the messages they posted, so a round cut short by a crash is written into them when it resumes. */
  drafts?: ReplyDrafts;
  random?: () => number;
}

export type SceneOutcome = 'not-scene' | 'stored' | 'scheduled';

/** Gives the right sinks for a scene's thread (the adapter knows the webhook of its parent channel). */
export type SceneSinks = (threadId: string, parentChannelId?: string) => SinkFactory;

/**
 * Runs scenes: stores people's messages, gathers those that arrive within the
 * debounce window into one round, and has the chosen characters answer one at
 * a time, in order, each with its own card and only what it could know. The
 * speaker queue of a round is stored with the scene, so a restart carries on
 * with it instead of choosing again.
 */
export class SceneDirector {
  readonly #deps: DirectorDeps;
  /** Rounds waiting out the debounce window, by conversation. */
  readonly #pending = new Map<string, { timer: NodeJS.Timeout; start: () => void }>();
  readonly #chains = new Map<string, Promise<void>>();
  /** Rounds queued behind a running one and not started yet, by conversation: at most one each. */
  readonly #queued = new Map<string, { actor: Actor; sinks: SinkFactory }>();

  constructor(deps: DirectorDeps) {
    this.#deps = deps;
  }

  async onMessage(message: IncomingMessage, sinks: SinkFactory): Promise<SceneOutcome> {
    const em = this.#deps.orm.em.fork();
    const scene = await findSceneHeader(em, { threadId: message.channelId });
    if (!scene || scene.settings.endedAt) return 'not-scene';
    const { actor } = await this.#deps.responder.storeMessage(em, scene.conversation, message);
    if (scene.settings.strategy === 'manual') return 'stored';
    const id = scene.conversation.id;
    clearTimeout(this.#pending.get(id)?.timer);
    const start = () => {
      this.#pending.delete(id);
      // A round already queued behind the running one has not read the scene yet: it answers this message too.
      const queued = this.#queued.get(id);
      if (queued) return void Object.assign(queued, { actor, sinks });
      const next = { actor, sinks };
      this.#queued.set(id, next);
      void this.#serialize(id, () => {
        this.#queued.delete(id);
        return this.#runRound(id, next.actor, next.sinks);
      });
    };
    this.#pending.set(id, { timer: setTimeout(start, this.#deps.debounceMs ?? 1500), start });
    return 'scheduled';
  }

  /**
   * `/scene next`: the named character (or one chosen as in a natural round)
   * speaks now, after any reply in progress. Resolves once it is chosen;
   * `done` settles when it has spoken.
   */
  async next(
    threadId: string,
    actor: Actor,
    characterName: string | undefined,
    sinks: SinkFactory,
  ): Promise<{ character: ICharacter; done: Promise<void> }> {
    const em = this.#deps.orm.em.fork();
    const scene = await findScene(em, threadId);
    if (!scene || scene.settings.endedAt) throw new UserError('This is not a running scene.');
    let participant: ReturnType<typeof participantNamed> | undefined;
    if (characterName) {
      participant = participantNamed(scene, characterName);
    } else {
      const last = await lastMessage(em, scene.conversation.id);
      const [chosen] = chooseSpeakers({
        ...this.#turnSettings(scene),
        strategy: 'natural',
        seats: seatsOf(scene).map((seat) => ({ ...seat, muted: false })),
        last,
        spokeSinceHuman: [],
      });
      participant = scene.participants.find((p) => p.character.id === chosen);
      if (!participant) throw new UserError('Nobody in this scene can speak now.');
    }
    const chosen = participant;
    const done = this.#serialize(scene.conversation.id, async () => {
      await this.#deps.responder.reply(scene.conversation.id, actor, sinks, undefined, {
        character: chosen.character,
        since: knowsSince(scene, chosen),
      });
    });
    return { character: chosen.character, done };
  }

  /**
   * `/scene end`: waits for the reply in progress, summarises the scene with
   * the first character's provider (the scene ends even if that fails) and
   * marks it ended. Returns the summary, if one was written.
   */
  async end(threadId: string, actor: Actor): Promise<{ summary?: string; error?: string }> {
    const em = this.#deps.orm.em.fork();
    const scene = await findScene(em, threadId);
    if (!scene || scene.settings.endedAt) throw new UserError('This is not a running scene.');
    assertCanDirect(actor, scene);
    clearTimeout(this.#pending.get(scene.conversation.id)?.timer);
    this.#pending.delete(scene.conversation.id);
    await this.#chains.get(scene.conversation.id);
    let summary: string | undefined;
    let error: string | undefined;
    try {
      summary = (await this.#summarize(em, scene, actor)) || undefined;
    } catch (failure) {
      error = explainFailure(failure).message;
    }
    await saveSettings(em, scene, { round: undefined, endedAt: new Date().toISOString(), summary });
    return { summary, error };
  }

  async #summarize(em: EntityManager, scene: SceneCast, actor: Actor): Promise<string> {
    const history = await recentHistory(em, scene.conversation.id, 80);
    const transcript = history.map((entry) => `${entry.speaker}: ${entry.content}`).join('\n');
    const narrator = scene.participants[0]?.character;
    if (!transcript.trim() || !narrator) return '';
    const resolved = await this.#deps.resolveModel({ actor, character: narrator });
    const stream = resolved.provider.stream({
      model: resolved.model,
      maxTokens: 400,
      messages: [
        {
          role: 'system',
          content:
            'Summarise this role-play scene in three to five sentences: who took part, what happened, and how it ended. Plain prose, past tense.',
        },
        { role: 'user', content: transcript },
      ],
    });
    for await (const _delta of stream) {
      // The summary is shown whole once written.
    }
    return (await stream.result()).text.trim();
  }

  /** Carries on the rounds that were in progress when the process stopped. */
  async resumeRounds(sinksFor: SceneSinks, only?: (guildDiscordId: string | undefined) => boolean): Promise<number> {
    const em = this.#deps.orm.em.fork();
    const rows = await em.execute<{ id: string }[]>(
      `select id from conversations where kind = 'thread' and jsonb_array_length(coalesce(settings #> '{scene,round,queue}', '[]'::jsonb)) > 0`,
    );
    for (const { id } of rows) {
      const conversation = (await em.findOneOrFail(Conversation, id, { populate: ['user', 'guild'] })) as IConversation;
      if (!conversation.user) continue;
      // With several gateway shards, each resumes the scenes of its own servers.
      if (only && !only(conversation.guild?.discordId)) continue;
      const actor: Actor = { user: conversation.user, guild: conversation.guild ?? undefined, isGuildAdmin: false };
      const settings = (conversation.settings as { scene?: { parentChannelId?: string } }).scene;
      void this.#serialize(id, () => this.#runRound(id, actor, sinksFor(conversation.discordChannelId, settings?.parentChannelId)));
    }
    return rows.length;
  }

  /** Waits for every scheduled and running round (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.#pending.size || this.#chains.size) {
      await Promise.all([...this.#chains.values()]);
      if (this.#pending.size) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Shutdown: rounds still in their debounce window start now, and the replies
   * being written are waited for. A round cut short (the process killed) is
   * resumed from its stored queue at the next start.
   */
  async close(): Promise<void> {
    for (const { timer, start } of [...this.#pending.values()]) {
      clearTimeout(timer);
      start();
    }
    await this.idle();
  }

  async #runRound(conversationId: string, actor: Actor, sinks: SinkFactory): Promise<void> {
    const em = this.#deps.orm.em.fork();
    const scene = await findScene(em, { conversationId });
    if (!scene || scene.settings.endedAt) return;
    let round = scene.settings.round;
    if (!round?.queue.length) {
      // The previous round may already have seen every message (one arrived while it was starting): nothing to answer.
      if (!(await hasUnanswered(em, conversationId))) return;
      const last = await lastMessage(em, conversationId);
      const queue = chooseSpeakers({ ...this.#turnSettings(scene), last, spokeSinceHuman: scene.settings.lastRoundSpoke });
      round = { queue, autoTurnsLeft: scene.settings.maxAutoTurns, spoke: [] };
      await saveSettings(em, scene, { round });
    }
    const drafts = await this.#draftSinks(conversationId, sinks);
    try {
      while (round.queue.length) {
        const speakerId: string = round.queue[0]!;
        const participant = scene.participants.find((p) => p.character.id === speakerId);
        const text = participant
          ? await this.#deps.responder.reply(conversationId, actor, drafts.factory, undefined, {
              character: participant.character,
              since: knowsSince(scene, participant),
            })
          : undefined;
        round = { ...round, queue: round.queue.slice(1), spoke: [...round.spoke, speakerId] };
        if (!round.queue.length && round.autoTurnsLeft > 0 && text) {
          const follow = chooseFollowUp({ ...this.#turnSettings(scene), last: { content: text, characterId: speakerId } });
          if (follow) round = { ...round, queue: [follow], autoTurnsLeft: round.autoTurnsLeft - 1 };
        }
        await saveSettings(em, scene, { round });
      }
    } finally {
      await drafts.settleLeftDraft();
    }
    await saveSettings(em, scene, { round: undefined, lastRoundSpoke: round.spoke });
  }

  /** The round's sinks, which note each reply's messages and take over those a crash left half-written. */
  async #draftSinks(conversationId: string, sinks: SinkFactory): Promise<DraftSinks> {
    const store = this.#deps.drafts;
    if (!store) return new DraftSinks(sinks);
    const left = await store.get(conversationId).catch((error: unknown) => {
      this.#deps.logger.warn({ err: error, conversation: conversationId }, 'could not read a reply draft');
      return undefined;
    });
    return new DraftSinks(sinks, { store, conversationId, left, logger: this.#deps.logger });
  }

  #turnSettings(scene: SceneCast) {
    return {
      strategy: scene.settings.strategy,
      seats: seatsOf(scene),
      allowSelfResponses: scene.settings.allowSelfResponses,
      random: this.#deps.random ?? Math.random,
    };
  }

  /** Runs scene work one piece at a time per conversation, in order. */
  #serialize(conversationId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(conversationId) ?? Promise.resolve();
    const next = previous.then(work).catch((error: unknown) => {
      this.#deps.logger.error({ err: error, conversation: conversationId }, 'scene round failed');
    });
    this.#chains.set(conversationId, next);
    void next.finally(() => {
      if (this.#chains.get(conversationId) === next) this.#chains.delete(conversationId);
    });
    return next;
  }
}

/** Whether a person wrote after the newest message any reply here saw (replies keep it as answeredUpTo, to the millisecond). */
async function hasUnanswered(em: EntityManager, conversationId: string): Promise<boolean> {
  const [row] = await em.execute<{ unanswered: boolean }[]>(
    `select exists (
       select 1 from messages u
        where u.conversation_id = ? and u.role = 'user'
          and date_trunc('milliseconds', u.created_at) > coalesce((
            select (a.metadata->>'answeredUpTo')::timestamptz from messages a
             where a.conversation_id = ? and a.role = 'assistant' and a.metadata->>'answeredUpTo' is not null
             order by a.created_at desc limit 1), '-infinity'::timestamptz)
     ) as unanswered`,
    [conversationId, conversationId],
  );
  return Boolean(row?.unanswered);
}

async function lastMessage(em: EntityManager, conversationId: string): Promise<{ content: string; characterId?: string }> {
  const message = await em.findOne(
    Message,
    { conversation: conversationId },
    { orderBy: { createdAt: 'desc', id: 'desc' }, fields: ['content', 'character'] },
  );
  return { content: message?.content ?? '', characterId: message?.character?.id };
}
