import type { Writable } from 'node:stream';
import type { ReplyInfo, ReplySink, Speaker } from '../chat/reply-sink.js';

/** Prints a reply to a terminal as it streams: the speaker's name, then the text as it grows. */
export class TerminalSink implements ReplySink {
  #printed = 0;
  #started = false;

  constructor(
    private readonly speaker: Speaker,
    private readonly out: Writable,
  ) {}

  async typing(): Promise<void> {}

  update(text: string): void {
    this.#start();
    this.out.write(text.slice(this.#printed));
    this.#printed = text.length;
  }

  async finish(text: string, info: ReplyInfo): Promise<{ messageIds: string[]; shown: boolean }> {
    this.#start();
    this.out.write(`${text.slice(this.#printed)}\n`);
    this.#printed = text.length;
    if (info.inputTokens !== undefined) this.out.write(`  (${info.model}, ${info.inputTokens}+${info.outputTokens ?? 0} tokens)\n`);
    // Printed: shown, though no Discord message holds it.
    return { messageIds: [], shown: true };
  }

  async fail(message: string): Promise<void> {
    this.#start();
    this.out.write(`\n⚠️  ${message}\n`);
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.out.write(`${this.speaker.name}: `);
  }
}
