import type { ReplyInfo, ReplySink, Speaker } from '../../src/chat/reply-sink.js';
import type { SinkFactory } from '../../src/chat/responder.js';

/** A ReplySink that records what the responder did, in order. */
export class RecordingSink implements ReplySink {
  readonly events: string[] = [];
  readonly updates: string[] = [];
  finished?: { text: string; info: ReplyInfo };
  failed?: string;
  constructor(
    readonly speaker: Speaker,
    readonly messageIds: string[] = [],
    private readonly onPosted?: (messageIds: string[]) => Promise<void>,
  ) {}

  async typing(): Promise<void> {
    this.events.push('typing');
  }
  update(text: string): void {
    if (this.events.at(-1) !== 'update') this.events.push('update');
    this.updates.push(text);
    // The first text of a new reply is "posted" as one message, as Discord's sink does.
    if (this.updates.length === 1 && !this.messageIds.length && this.onPosted)
      void this.onPosted([`posted-${this.speaker.characterId.slice(0, 8)}`]);
  }
  async finish(text: string, info: ReplyInfo): Promise<{ messageIds: string[] }> {
    this.events.push('finish');
    this.finished = { text, info };
    return { messageIds: this.messageIds.length ? this.messageIds : [`discord-${info.messageId.slice(0, 8)}`] };
  }
  async fail(message: string): Promise<void> {
    this.events.push('fail');
    this.failed = message;
  }
}

/** A SinkFactory that keeps every sink it made. */
export function recordingSinks(): SinkFactory & { sinks: RecordingSink[] } {
  const sinks: RecordingSink[] = [];
  const factory: SinkFactory = (speaker, messageIds, onPosted) => {
    const sink = new RecordingSink(speaker, messageIds, onPosted);
    sinks.push(sink);
    return sink;
  };
  return Object.assign(factory, { sinks });
}
