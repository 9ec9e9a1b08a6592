import type { FakeDiscord } from '../../test/discord-fake/index.js';
import { callOf, note, shownOnDiscord, visibleError, type CheckResult, type Row } from './check.js';
import type { SentMessage } from './drive.js';
import type { ProviderCall } from './provider.js';
import type { LoadServices } from './services.js';

/** One round of a scene, rebuilt from the trigger's log of the stored round. */
interface Round {
  startAt: number;
  endAt?: number;
  /** Character ids, in the order they were to speak (the chosen ones, then any follow-ups). */
  spoke: string[];
}

/**
 * Scenes: every round's speakers (stored by the director; logged by the
 * trigger) replied once each, in order, inside the round, and no reply
 * happened outside a round; a speaker without a reply must show a ⚠️ error.
 * Every person's message was stored and followed by a round (or, written
 * during one, seen by a later speaker of it); every round had a new message
 * from a person to answer; no round is left running.
 */
export async function checkScenes(
  input: {
    services: LoadServices;
    discord: FakeDiscord;
    sent: SentMessage[];
    rows: Row[];
    calls: Map<string, ProviderCall>;
    threadOf: Map<string, string>;
  },
  result: CheckResult,
): Promise<void> {
  const { discord, rows, calls } = input;
  const names = new Map(
    (await input.services.sql<{ id: string; name: string }>('select id, name from characters')).map((c) => [c.id, c.name]),
  );
  const log = await input.services.sql<{
    conversation_id: string;
    round: { queue: string[]; spoke: string[] } | string | null;
    at: Date | string;
  }>('select conversation_id, round, at from load_scene_rounds order by seq');
  const byDiscordId = new Map(rows.filter((r) => r.discordMessageId).map((r) => [r.discordMessageId!, r]));
  for (const [conversationId, threadId] of input.threadOf) {
    const rounds = roundsOf(log.filter((l) => l.conversation_id === conversationId));
    result.rounds += rounds.length;
    const mine = rows.filter((r) => r.conversationId === conversationId);
    const humans = mine.filter((r) => r.role === 'user');
    const replies = mine.filter((r) => r.role === 'assistant' && !r.metadata.greeting);
    result.replies.scenes += replies.length;
    const placed = new Set<Row>();
    rounds.forEach((round, k) => {
      if (round.endAt === undefined) {
        note(result, 'unfinishedRounds', `a round in ${threadId} started at ${iso(round.startAt)} never finished`);
        return;
      }
      const inside = replies.filter((r) => r.createdAt.getTime() >= round.startAt && r.createdAt.getTime() <= round.endAt!);
      inside.forEach((r) => placed.add(r));
      const said = inside.map((r) => r.character);
      const expected = round.spoke.map((id) => names.get(id) ?? id);
      const missing = without(expected, said);
      const extra = without(said, expected);
      for (const name of missing) {
        if (visibleError(discord, threadId, round.startAt, name ?? undefined)) result.failedVisibly++;
        else
          note(
            result,
            'roundMismatch',
            `${name} was to speak in the round of ${threadId} at ${iso(round.startAt)} but did not (said: ${said.join(', ')})`,
          );
      }
      if (extra.length)
        note(
          result,
          'roundMismatch',
          `the round of ${threadId} at ${iso(round.startAt)} chose ${expected.join(', ')} but ${said.join(', ')} spoke`,
        );
      else if (said.join() !== without(expected, missing).join()) {
        note(
          result,
          'wrongSpeaker',
          `the round of ${threadId} at ${iso(round.startAt)} chose ${expected.join(', ')} in that order, but ${said.join(', ')} spoke`,
        );
      }
      const previousStart = k === 0 ? -Infinity : rounds[k - 1]!.startAt;
      if (!humans.some((h) => h.createdAt.getTime() > previousStart && h.createdAt.getTime() <= round.startAt)) {
        note(
          result,
          'roundWithoutNewMessage',
          `the round of ${threadId} at ${iso(round.startAt)} (${expected.join(', ')}) had no new message to answer`,
        );
      }
    });
    for (const reply of replies) {
      if (!placed.has(reply))
        note(
          result,
          'roundMismatch',
          `reply ${reply.id} by ${reply.character} in ${threadId} at ${reply.createdAt.toISOString()} belongs to no round`,
        );
      if (!shownOnDiscord(discord, reply)) note(result, 'notOnDiscord', `reply ${reply.id} in ${threadId} is not on Discord as stored`);
      const speaker = callOf(reply, calls)?.speaker;
      if (speaker !== reply.character)
        note(result, 'wrongSpeaker', `reply ${reply.id} stored as ${reply.character} was written for ${speaker ?? 'no known request'}`);
    }
    for (const message of input.sent.filter((m) => m.place.id === threadId)) {
      const stored = byDiscordId.get(message.discordId);
      if (!stored) note(result, 'notStored', `${message.tag} in ${threadId} was never stored`);
      else if (
        !rounds.some((round) => round.startAt >= stored.createdAt.getTime()) &&
        !seenByLaterSpeaker(message, stored, replies, calls)
      ) {
        note(
          result,
          'sceneMessageWithoutRound',
          `${message.tag} in ${threadId} (${iso(stored.createdAt.getTime())}) was followed by no round`,
        );
      }
    }
  }
}

/**
 * A message written while a round was running is answered by that round when
 * a speaker after it had it in its prompt (its reply saw up to it): the
 * director starts no new round for it then, by design, so characters do not
 * speak twice to one message.
 */
function seenByLaterSpeaker(message: SentMessage, stored: Row, replies: Row[], calls: Map<string, ProviderCall>): boolean {
  return replies.some(
    (reply) =>
      reply.metadata.answeredUpTo !== undefined &&
      Date.parse(reply.metadata.answeredUpTo) >= stored.createdAt.getTime() &&
      Boolean(callOf(reply, calls)?.messageTags.has(message.tag)),
  );
}

function roundsOf(entries: { round: { queue: string[]; spoke: string[] } | string | null; at: Date | string }[]): Round[] {
  const rounds: Round[] = [];
  let current: Round | undefined;
  for (const entry of entries) {
    const at = new Date(entry.at).getTime();
    const round = typeof entry.round === 'string' ? (JSON.parse(entry.round) as { queue: string[]; spoke: string[] }) : entry.round;
    if (!round) {
      if (current) rounds.push({ ...current, endAt: at });
      current = undefined;
      continue;
    }
    current ??= { startAt: at, spoke: [] };
    current.spoke = round.spoke;
  }
  if (current) rounds.push(current);
  return rounds;
}

/** `items` less one occurrence of each of `taken` (multisets, order kept). */
function without(items: (string | null)[], taken: (string | null)[]): (string | null)[] {
  const left = [...taken];
  return items.filter((item) => {
    const i = left.indexOf(item);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
