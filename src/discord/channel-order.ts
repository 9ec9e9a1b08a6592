/**
 * Takes a channel's messages in the order Discord sent them, up to the point where each is stored (a persona's
 * after its repost): handling is asynchronous, and a repost (a download, a webhook call, a delete) takes long
 * enough for the next line to overtake it. What comes after, the reply, runs side by side as before. A message
 * whose handling is stuck holds the next one up for `maxWaitMs` at most.
 */
export class ChannelOrder {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #maxWaitMs: number;

  constructor(maxWaitMs = 30_000) {
    this.#maxWaitMs = maxWaitMs;
  }

  /** A place in the channel's line: `ready` once the message before is stored; call `done` once this one is (or never will be). */
  take(channelId: string): { ready: Promise<void>; done: () => void } {
    const previous = this.#tails.get(channelId);
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail: Promise<void> = mine.then(() => {
      if (this.#tails.get(channelId) === tail) this.#tails.delete(channelId);
    });
    this.#tails.set(channelId, tail);
    return { ready: previous ? this.#atMost(previous) : Promise.resolve(), done };
  }

  #atMost(previous: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#maxWaitMs);
      timer.unref();
    });
    return Promise.race([previous, limit]).finally(() => clearTimeout(timer));
  }
}
