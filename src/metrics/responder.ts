import type { EntityManager } from '@mikro-orm/postgresql';
import { Responder, type IncomingMessage, type ResponderDeps, type StoredMessage } from '../chat/responder.js';
import type { IConversation } from '../db/entities/index.js';
import type { Metrics } from './metrics.js';

/**
 * The Responder as the running bot uses it: counts every message it stores
 * (channels, DMs, and scene threads, whose director stores through it) by kind
 * of conversation, and keeps track of the work writing to Discord so that
 * shutdown can wait for it (idle()). A subclass, so the chat core stays
 * unaware of metrics and shutdown.
 */
export class InstrumentedResponder extends Responder {
  readonly #metrics: Metrics;
  readonly #running = new Set<Promise<unknown>>();

  constructor(deps: ResponderDeps & { metrics: Metrics }) {
    super({
      ...deps,
      observe: (event) => {
        deps.metrics.observeReply(event);
        deps.observe?.(event);
      },
    });
    this.#metrics = deps.metrics;
  }

  override async storeMessage(em: EntityManager, conversation: IConversation, message: IncomingMessage): Promise<StoredMessage> {
    const stored = await super.storeMessage(em, conversation, message);
    this.#metrics.messagesReceived.inc({ kind: conversation.kind });
    return stored;
  }

  override onMessage(...args: Parameters<Responder['onMessage']>) {
    return this.#track(super.onMessage(...args));
  }

  override greet(...args: Parameters<Responder['greet']>) {
    return this.#track(super.greet(...args));
  }

  override reply(...args: Parameters<Responder['reply']>) {
    return this.#track(super.reply(...args));
  }

  override regenerate(...args: Parameters<Responder['regenerate']>) {
    return this.#track(super.regenerate(...args));
  }

  override continueReply(...args: Parameters<Responder['continueReply']>) {
    return this.#track(super.continueReply(...args));
  }

  override swipe(...args: Parameters<Responder['swipe']>) {
    return this.#track(super.swipe(...args));
  }

  /** Resolves when no reply, greeting or swipe is being written (including ones started meanwhile). */
  async idle(): Promise<void> {
    while (this.#running.size) await Promise.allSettled([...this.#running]);
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#running.add(work);
    const done = () => this.#running.delete(work);
    work.then(done, done);
    return work;
  }
}
