import type { FakeDiscord } from '../../test/discord-fake/index.js';
import type { SentMessage } from './drive.js';
import type { ProviderCall } from './provider.js';
import type { LoadServices } from './services.js';

/** A stored message, as the check reads it. */
export interface Row {
  id: string;
  conversationId: string;
  role: 'user' | 'assistant' | 'system';
  content: string;
  character: string | null;
  discordMessageId: string | null;
  metadata: { answeredUpTo?: string; greeting?: boolean; discordMessageIds?: string[] };
  createdAt: Date;
}

/** Counts of what went wrong; every one must be 0. */
export interface Violations {
  /** A person's message that never reached the database. */
  notStored: number;
  /** A message no reply covers, and no visible ⚠️ error either. */
  lost: number;
  /** A reply covering a message it never saw (its prompt lacked it). */
  coveredUnseen: number;
  /** A reply that answered nothing new (the same newest message as an earlier reply). */
  doubled: number;
  /** A reply whose Discord message is missing or differs from what was stored. */
  notOnDiscord: number;
  /** Scenes: a round whose speakers did not each reply exactly once, or a reply outside every round. */
  roundMismatch: number;
  /** Scenes: a round started without any new message from a person since the round before. */
  roundWithoutNewMessage: number;
  /** Scenes: a person's message after which no round started. */
  sceneMessageWithoutRound: number;
  /** Scenes: a round still in progress once everything settled. */
  unfinishedRounds: number;
  /** A reply spoken by another character than the one that should speak. */
  wrongSpeaker: number;
}

export interface CheckResult {
  violations: Violations;
  /** Replies that failed but showed their ⚠️ error on Discord (allowed). */
  failedVisibly: number;
  replies: { channels: number; scenes: number };
  rounds: number;
  /** A few examples of each violation, for the report. */
  examples: string[];
}

export async function loadRows(services: LoadServices): Promise<Row[]> {
  const rows = await services.sql<{
    id: string;
    conversation_id: string;
    role: Row['role'];
    content: string;
    character: string | null;
    discord_message_id: string | null;
    metadata: Row['metadata'] | string;
    created_at: Date | string;
  }>(
    `select m.id, m.conversation_id, m.role, m.content, c.name as character, m.discord_message_id, m.metadata, m.created_at
       from messages m left join characters c on c.id = m.character_id
      order by m.created_at, m.id`,
  );
  return rows.map((r) => ({
    id: r.id,
    conversationId: r.conversation_id,
    role: r.role,
    content: r.content,
    character: r.character,
    discordMessageId: r.discord_message_id,
    metadata: typeof r.metadata === 'string' ? JSON.parse(r.metadata) : (r.metadata ?? {}),
    createdAt: new Date(r.created_at),
  }));
}

export function emptyViolations(): Violations {
  return {
    notStored: 0,
    lost: 0,
    coveredUnseen: 0,
    doubled: 0,
    notOnDiscord: 0,
    roundMismatch: 0,
    roundWithoutNewMessage: 0,
    sceneMessageWithoutRound: 0,
    unfinishedRounds: 0,
    wrongSpeaker: 0,
  };
}

/** The provider call that wrote a stored reply: its text starts with the call's tag. */
export function callOf(reply: Row, calls: Map<string, ProviderCall>): ProviderCall | undefined {
  return calls.get(/^r\d+\b/.exec(reply.content)?.[0] ?? '');
}

/** The reply's Discord messages exist and show exactly its stored text. */
export function shownOnDiscord(discord: FakeDiscord, reply: Row): boolean {
  const ids = reply.metadata.discordMessageIds ?? (reply.discordMessageId ? [reply.discordMessageId] : []);
  if (!ids.length) return false;
  const shown = ids.map((id) => discord.message(id)).filter((m) => m && !m.fake.deleted);
  if (shown.length !== ids.length) return false;
  const squash = (text: string) => text.replace(/\s+/g, ' ').trim();
  return squash(shown.map((m) => m!.content).join(' ')) === squash(reply.content);
}

/** A ⚠️ error shown in this channel or thread after `after` (ms), by `speaker` when given. */
export function visibleError(discord: FakeDiscord, channelId: string, after: number, speaker?: string): boolean {
  return discord
    .messages(channelId)
    .some((m) => m.content.includes('⚠️') && m.fake.createdAt >= after && (!speaker || m.author.username === speaker));
}

/**
 * Bound channels (answers:all): every person's message is covered by exactly
 * one reply, the earliest whose answeredUpTo reaches it, and that reply's
 * prompt contained it; replies never repeat an answeredUpTo; every reply is on
 * Discord as stored. A message no reply covers must have a visible ⚠️ error.
 */
export function checkChannels(
  input: { discord: FakeDiscord; sent: SentMessage[]; rows: Row[]; calls: Map<string, ProviderCall>; channelOf: Map<string, string> },
  result: CheckResult,
): void {
  const { discord, sent, rows, calls } = input;
  const byDiscordId = new Map(rows.filter((r) => r.discordMessageId).map((r) => [r.discordMessageId!, r]));
  for (const [conversationId, channelId] of input.channelOf) {
    const mine = rows.filter((r) => r.conversationId === conversationId);
    const replies = mine.filter((r) => r.role === 'assistant' && !r.metadata.greeting);
    result.replies.channels += replies.length;
    let previous = -Infinity;
    for (const reply of replies) {
      const upTo = reply.metadata.answeredUpTo ? Date.parse(reply.metadata.answeredUpTo) : NaN;
      if (!(upTo > previous))
        note(result, 'doubled', `reply ${reply.id} in ${channelId} answered up to ${reply.metadata.answeredUpTo} again`);
      if (upTo > previous) previous = upTo;
      if (!shownOnDiscord(discord, reply)) note(result, 'notOnDiscord', `reply ${reply.id} in ${channelId} is not on Discord as stored`);
    }
    for (const message of sent.filter((m) => m.place.id === channelId)) {
      const stored = byDiscordId.get(message.discordId);
      if (!stored) {
        note(result, 'notStored', `${message.tag} in ${channelId} was never stored`);
        continue;
      }
      const covering = replies.find((r) => r.metadata.answeredUpTo && Date.parse(r.metadata.answeredUpTo) >= stored.createdAt.getTime());
      if (!covering) {
        if (visibleError(discord, channelId, message.dispatchedAt)) result.failedVisibly++;
        else note(result, 'lost', `${message.tag} in ${channelId}: no reply covers it and no error shows`);
        continue;
      }
      if (!callOf(covering, calls)?.messageTags.has(message.tag)) {
        note(result, 'coveredUnseen', `${message.tag} in ${channelId} is covered by reply ${covering.id}, whose prompt did not contain it`);
      }
    }
  }
}

export function note(result: CheckResult, kind: keyof Violations, example: string): void {
  result.violations[kind]++;
  if (result.examples.filter((e) => e.startsWith(`${kind}:`)).length < 5) result.examples.push(`${kind}: ${example}`);
}
