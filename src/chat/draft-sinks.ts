import type { Logger } from '../logger.js';
import type { ReplyDraft, ReplyDrafts } from '../queue/drafts.js';
import type { ReplySink } from './reply-sink.js';
import type { SinkFactory } from './responder.js';

/**
 * The sinks a reply job (or a scene round) opened, and whether each showed
 * text and was finished or failed. With drafts, the messages a reply posts
 * are noted as the conversation's draft until it settles; a draft left by a
 * process that died mid-reply is taken over by the first reply of the same
 * character (its half-written messages become this reply), or else marked
 * interrupted.
 */
export class DraftSinks {
  readonly #open: { sink: ReplySink; shown: boolean; settled: boolean }[] = [];
  #draft: ReplyDraft | undefined;

  constructor(
    private readonly sinks: SinkFactory,
    private readonly drafts?: { store: ReplyDrafts; conversationId: string; left?: ReplyDraft; logger: Logger },
  ) {
    this.#draft = drafts?.left;
  }

  readonly factory: SinkFactory = (speaker, messageIds) => {
    const adopted = !messageIds && this.#draft?.speaker.characterId === speaker.characterId ? this.#draft : undefined;
    if (adopted) this.#draft = undefined;
    const drafts = this.drafts;
    // A new reply (not a rewrite of one) is noted as the draft while it is written, until it is settled.
    let noting = Boolean(drafts && !messageIds);
    const onPosted = noting
      ? async (ids: string[]) => {
          if (noting) await drafts!.store.save(drafts!.conversationId, { speaker, messageIds: ids });
        }
      : undefined;
    // Forgotten before the last edit: dying after it must not leave a finished reply to be taken over.
    const settle = async () => {
      if (!noting) return;
      noting = false;
      await this.#clearDraft();
    };
    const entry = { sink: this.sinks(speaker, messageIds ?? adopted?.messageIds, onPosted), shown: false, settled: false };
    this.#open.push(entry);
    return {
      typing: () => entry.sink.typing(),
      update: (text) => {
        entry.shown = true;
        entry.sink.update(text);
      },
      finish: async (text, info) => {
        entry.settled = true;
        await settle();
        return entry.sink.finish(text, info);
      },
      fail: async (message) => {
        entry.settled = true;
        await settle();
        await entry.sink.fail(message);
      },
    };
  };

  /**
   * Marks every unfinished reply that showed text (or, with `last`, every
   * unfinished one) with an error. Unless it is the last try, the draft stays:
   * the next try writes the reply into the same messages.
   */
  async interrupt(message: string, last: boolean): Promise<void> {
    for (const entry of this.#open) {
      if (entry.settled || !(entry.shown || last)) continue;
      entry.settled = true;
      await entry.sink.fail(message).catch(() => {});
    }
    if (last) await this.#clearDraft();
  }

  /** A draft left by a dead worker that no reply here took over: its messages say the reply was interrupted. */
  async settleLeftDraft(): Promise<void> {
    const draft = this.#draft;
    if (!draft || !this.drafts) return;
    this.#draft = undefined;
    await this.sinks(draft.speaker, draft.messageIds)
      .fail('This reply was interrupted.')
      .catch((error: unknown) => this.drafts!.logger.warn({ err: error }, 'could not mark an interrupted reply'));
    await this.#clearDraft();
  }

  async #clearDraft(): Promise<void> {
    await this.drafts?.store.clear(this.drafts.conversationId).catch((error: unknown) => {
      this.drafts!.logger.warn({ err: error }, 'could not clear a reply draft');
    });
  }
}
