import { InteractionResponseType, MessageFlags } from 'discord-api-types/v10';
import type { FakeContext } from './context.js';
import type { Json } from './payloads.js';
import type { RecordedFile, StoredMessage } from './store.js';

export type InteractionResponseKind = 'callback' | 'edit-original' | 'delete-original' | 'followup' | 'edit-followup' | 'delete-followup';

/** One thing the bot did in answer to an interaction, in order of arrival. */
export interface InteractionResponse {
  kind: InteractionResponseKind;
  /** For callbacks: 4 reply, 5 deferred reply, 6 deferred update, 7 update, 8 autocomplete choices, 9 modal. */
  type?: InteractionResponseType;
  /** The body's `data` (callbacks) or the whole body (edits and follow-ups). */
  data: any;
  files: RecordedFile[];
  /** The message created or changed, when there is one. */
  messageId?: string;
  at: number;
}

/**
 * An interaction the fake dispatched, and everything the bot answered: the
 * callback, edits of @original, follow-ups. Returned by slashCommand(),
 * pressButton(), submitModal(), autocomplete().
 */
export class FakeInteraction {
  readonly id: string;
  readonly token: string;
  /** The INTERACTION_CREATE data as dispatched. */
  readonly payload: Json;
  readonly createdAt = Date.now();
  readonly responses: InteractionResponse[] = [];
  /** The callback type, once the bot acknowledged. */
  acknowledged?: InteractionResponseType;
  /** The message @original refers to (the reply, or the component's message for updates). */
  originalMessageId?: string;
  readonly followUpIds: string[] = [];
  readonly #ctx: FakeContext;

  constructor(ctx: FakeContext, payload: Json) {
    this.#ctx = ctx;
    this.payload = payload;
    this.id = payload.id as string;
    this.token = payload.token as string;
  }

  /** InteractionType: 2 command, 3 component, 4 autocomplete, 5 modal submit. */
  get type(): number {
    return this.payload.type as number;
  }

  get userId(): string {
    const member = this.payload.member as { user: { id: string } } | undefined;
    return member?.user.id ?? (this.payload.user as { id: string }).id;
  }

  get callback(): InteractionResponse | undefined {
    return this.responses.find((response) => response.kind === 'callback');
  }

  /** The current state of the @original message (reply, deferred reply, or updated component message). */
  get original(): StoredMessage | undefined {
    return this.originalMessageId ? this.#ctx.store.messages.get(this.originalMessageId) : undefined;
  }

  get followUps(): StoredMessage[] {
    return this.followUpIds.map((id) => this.#ctx.store.messages.get(id)!).filter(Boolean);
  }

  /** The modal the bot showed (callback type 9), if any. */
  get modal(): Json | undefined {
    const callback = this.callback;
    return callback?.type === InteractionResponseType.Modal ? callback.data : undefined;
  }

  /** The autocomplete choices the bot sent (callback type 8), if any. */
  get choices(): { name: string; value: string | number }[] | undefined {
    const callback = this.callback;
    return callback?.type === InteractionResponseType.ApplicationCommandAutocompleteResult ? callback.data.choices : undefined;
  }

  get ephemeral(): boolean {
    return Boolean((this.original?.flags ?? 0) & MessageFlags.Ephemeral);
  }

  /** The first response (callback, edit, follow-up…) matching `predicate`, already recorded or yet to come. */
  waitForResponse(predicate: (response: InteractionResponse) => boolean = () => true, timeoutMs?: number): Promise<InteractionResponse> {
    return this.#until(() => this.responses.find(predicate), timeoutMs, 'a matching response');
  }

  /** The reply as the user sees it: @original once it has content (a reply, an update, or the edit of a deferral). */
  waitForReply(timeoutMs?: number): Promise<StoredMessage> {
    return this.#until(
      () => {
        const original = this.original;
        return original && !((original.flags ?? 0) & MessageFlags.Loading) ? original : undefined;
      },
      timeoutMs,
      'a visible reply',
    );
  }

  /** The @original message once its content satisfies `predicate` (e.g. a streamed reply finished). */
  waitForOriginal(predicate: (message: StoredMessage) => boolean, timeoutMs?: number): Promise<StoredMessage> {
    return this.#until(() => (this.original && predicate(this.original) ? this.original : undefined), timeoutMs, 'the original to match');
  }

  waitForModal(timeoutMs?: number): Promise<Json> {
    return this.#until(() => this.modal, timeoutMs, 'a modal (callback type 9)');
  }

  waitForChoices(timeoutMs?: number): Promise<{ name: string; value: string | number }[]> {
    return this.#until(() => this.choices, timeoutMs, 'autocomplete choices (callback type 8)');
  }

  waitForFollowUp(predicate: (message: StoredMessage) => boolean = () => true, timeoutMs?: number): Promise<StoredMessage> {
    return this.#until(() => this.followUps.find(predicate), timeoutMs, 'a follow-up');
  }

  /** Used by the routes: appends a response and wakes waiters. */
  record(response: Omit<InteractionResponse, 'at'>): void {
    this.responses.push({ ...response, at: Date.now() });
    this.#ctx.signal.notify();
  }

  #until<T>(check: () => T | undefined, timeoutMs: number | undefined, what: string): Promise<T> {
    const ms = timeoutMs ?? this.#ctx.timings.waitTimeoutMs;
    return this.#ctx.signal.until(check, ms, () => {
      const got =
        this.responses.map((response) => `${response.kind}${response.type ? ` type ${response.type}` : ''}`).join(', ') || 'nothing';
      return `Interaction ${this.id} (${describe(this.payload)}): waited ${ms} ms for ${what}; the bot answered: ${got}.\n${this.#ctx.describeRecent()}`;
    });
  }
}

function describe(payload: Json): string {
  const data = payload.data as { name?: string; custom_id?: string } | undefined;
  return data?.name ? `/${data.name}` : data?.custom_id ? `custom_id ${data.custom_id}` : `type ${String(payload.type)}`;
}
