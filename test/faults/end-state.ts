import type { MikroORM } from '@mikro-orm/postgresql';
import type { FakeDiscord, StoredMessage } from '../discord-fake/index.js';

/** What the end-state check found; `problems` empty means it holds. */
export interface EndState {
  problems: string[];
  /** People's messages stored, replies stored, people's messages followed by a visible error instead of a reply. */
  humans: number;
  replies: number;
  answeredByError: number;
  /** Character messages on Discord no stored reply owns and that show no error (a partial reply left by a dead worker). */
  orphans: StoredMessage[];
}

interface Row {
  role: string;
  created_at: Date | string;
  discord_message_id: string | null;
  metadata: { answeredUpTo?: string; discordMessageIds?: string[]; greeting?: boolean };
  channel: string;
}

const CURSOR = '▌';
const isError = (message: StoredMessage) => message.content.includes('⚠️');
const after = (message: StoredMessage, id: string) => BigInt(message.id) > BigInt(id);

/**
 * The end-state check of issue 8, for the conversations of `channelIds`:
 * - every message someone sent (`sent`) was stored, or a visible error (⚠️) follows it on Discord;
 * - every stored human message is covered by exactly one reply (the first whose answeredUpTo reaches it),
 *   or a visible error follows it; no two replies cover the same newest message;
 * - every reply's Discord messages exist, and its last one looks finished (buttons, no cursor);
 * - no finished-looking character message on Discord is owned by no stored reply (a doubled post).
 */
export async function checkEndState(orm: MikroORM, discord: FakeDiscord, channelIds: string[], sent: StoredMessage[]): Promise<EndState> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<Row[]>(
      `select m.role, m.created_at, m.discord_message_id, m.metadata, c.discord_channel_id as channel
       from messages m join conversations c on c.id = m.conversation_id
      where c.discord_channel_id in (${channelIds.map(() => '?').join(', ') || 'null'})
      order by m.created_at, m.id`,
      channelIds,
    );
  const state: EndState = { problems: [], humans: 0, replies: 0, answeredByError: 0, orphans: [] };
  const storedIds = new Set(rows.map((row) => row.discord_message_id).filter(Boolean));
  for (const message of sent) {
    if (storedIds.has(message.id)) continue;
    const shown = discord.messages(message.channel_id).some((other) => isError(other) && after(other, message.id));
    if (!shown)
      state.problems.push(`"${message.content}" in ${message.channel_id} was never stored, and no error was shown (silently dropped)`);
  }
  for (const channelId of channelIds)
    checkChannel(
      discord,
      channelId,
      rows.filter((row) => row.channel === channelId),
      state,
    );
  return state;
}

function checkChannel(discord: FakeDiscord, channelId: string, rows: Row[], state: EndState): void {
  const onDiscord = discord.messages(channelId);
  const humans = rows.filter((row) => row.role === 'user');
  const replies = rows
    .filter((row) => row.role === 'assistant' && !row.metadata.greeting)
    .sort((a, b) => Date.parse(a.metadata.answeredUpTo ?? '') - Date.parse(b.metadata.answeredUpTo ?? ''));
  state.humans += humans.length;
  state.replies += replies.length;
  const owned = new Set<string>();
  let previous = -Infinity;
  const covers: number[] = [];
  for (const reply of replies) {
    const upTo = Date.parse(reply.metadata.answeredUpTo ?? '');
    if (Number.isNaN(upTo)) state.problems.push(`a reply in ${channelId} has no answeredUpTo`);
    else if (upTo === previous)
      state.problems.push(`two replies in ${channelId} cover the same newest message (${reply.metadata.answeredUpTo})`);
    previous = upTo;
    covers.push(upTo);
    const ids = reply.metadata.discordMessageIds ?? (reply.discord_message_id ? [reply.discord_message_id] : []);
    if (!ids.length) state.problems.push(`a reply in ${channelId} (up to ${reply.metadata.answeredUpTo}) was never shown on Discord`);
    for (const id of ids) {
      owned.add(id);
      const shown = discord.message(id);
      if (!shown || shown.fake.deleted) state.problems.push(`reply message ${id} in ${channelId} does not exist on Discord`);
    }
    const last = ids.length ? discord.message(ids.at(-1)!) : undefined;
    if (last && (last.content.includes(CURSOR) || !last.components?.length)) {
      state.problems.push(`reply message ${last.id} in ${channelId} does not look finished: ${JSON.stringify(last.content.slice(-80))}`);
    }
  }
  for (const human of humans) {
    const at = new Date(human.created_at).getTime();
    if (covers.some((upTo) => upTo >= at)) continue;
    const error = human.discord_message_id && onDiscord.some((other) => isError(other) && after(other, human.discord_message_id!));
    if (error) state.answeredByError += 1;
    else
      state.problems.push(
        `a message in ${channelId} at ${new Date(human.created_at).toISOString()} has neither a reply nor a visible error`,
      );
  }
  for (const message of onDiscord) {
    if (!message.webhook_id || owned.has(message.id) || isError(message)) continue;
    if (message.content.includes(CURSOR) && !message.components?.length) state.orphans.push(message);
    else
      state.problems.push(
        `character message ${message.id} in ${channelId} looks like a finished reply, but no stored reply owns it (doubled?)`,
      );
  }
}

/** The end-state once work in flight has landed: checks again until it holds or `timeoutMs` passes, and returns the last finding. */
export async function settledEndState(
  orm: MikroORM,
  discord: FakeDiscord,
  channelIds: string[],
  sent: StoredMessage[],
  timeoutMs = 15_000,
): Promise<EndState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await checkEndState(orm, discord, channelIds, sent);
    if (!state.problems.length || Date.now() > deadline) return state;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
