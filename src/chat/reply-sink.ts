/**
 * Where a character's reply goes while it is written: a Discord webhook
 * message edited as tokens arrive, or a terminal. The responder calls these in
 * order: typing → update* → finish | fail.
 */
export interface ReplySink {
  /** Before the first token: show that the character is typing. */
  typing(): Promise<void>;
  /** The whole text so far; the sink decides how often to show it. */
  update(text: string): void;
  /**
   * The reply is complete. Returns the ids of the messages that show it (Discord may need several), and whether it
   * was shown at all: a terminal shows it without ids; by default, shown means some message holds it.
   */
  finish(text: string, info: ReplyInfo): Promise<{ messageIds: string[]; shown?: boolean }>;
  /** The reply failed: leave a visible error, never a half-written reply without one. */
  fail(message: string): Promise<void>;
}

export interface ReplyInfo {
  /** The stored message id (for buttons: regenerate, swipe, sources). */
  messageId: string;
  model: string;
  /** A character's greeting: its versions are the card's greetings, nothing to regenerate or continue. */
  greeting?: boolean;
  inputTokens?: number;
  outputTokens?: number;
  /** 1-based position of this alternative among the reply's alternatives, and how many there are. */
  alternative: { index: number; count: number };
  /** How many memories, lore entries and knowledge chunks went into its prompt (the Sources button). */
  sources?: number;
}

/** Who the reply speaks as. */
export interface Speaker {
  characterId: string;
  name: string;
  avatarUrl?: string | null;
}
