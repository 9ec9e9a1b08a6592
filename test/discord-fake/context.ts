import type { FakeCdn } from './cdn.js';
import type { FakeInteraction } from './interactions.js';
import type { Json } from './payloads.js';
import type { FakeStore } from './store.js';
import type { ChangeSignal } from './waiting.js';

export interface FakeTimings {
  /** How long an interaction may go unanswered before Discord forgets it (3 s). */
  interactionTimeoutMs: number;
  /** How long an interaction token works for edits and follow-ups (15 min). */
  interactionTokenTtlMs: number;
  /** Default timeout of the wait helpers. */
  waitTimeoutMs: number;
}

/** What routes and helpers share: the state, the gateway's dispatch, the change signal. */
export interface FakeContext {
  readonly store: FakeStore;
  readonly signal: ChangeSignal;
  readonly timings: FakeTimings;
  /** Interactions by id (tokens are checked against them). */
  readonly interactions: Map<string, FakeInteraction>;
  /** Signs attachment links and serves them until they expire, on a clock the test moves. */
  readonly cdn: FakeCdn;
  /** `http://127.0.0.1:PORT`, for attachment URLs. */
  baseUrl(): string;
  /** Sends a gateway dispatch to every session (filtered by each session's intents) and records it. */
  dispatch(event: string, data: Json): void;
  /** Describes recent activity for timeout messages. */
  describeRecent(): string;
}
