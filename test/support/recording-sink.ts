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
  ) {}

  async typing(): Promise<void> {
    this.events.push('typing');
  }
  update(text: string): void {
    if (this.events.at(-1) !== 'update') this.events.push('update');
    this.updates.push(text);
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
  const factory: SinkFactory = (speaker, messageIds) => {
    const sink = new RecordingSink(speaker, messageIds);
    sinks.push(sink);
    return sink;
  };
  return Object.assign(factory, { sinks });
}
