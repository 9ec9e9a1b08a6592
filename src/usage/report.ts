import type { EntityManager } from '@mikro-orm/postgresql';

export interface ModelUsage {
  model: string;
  replies: number;
  tokens: number;
  /** Estimated, in US dollars; replies of models without a price count 0. */
  costUsd: number;
}

export interface PeriodUsage {
  replies: number;
  tokens: number;
  costUsd: number;
  byModel: ModelUsage[];
}

export interface UsageReport {
  today: PeriodUsage;
  month: PeriodUsage;
}

export interface ServerUsageReport extends UsageReport {
  /** This month's heaviest users, most tokens first. */
  topUsers: { discordId: string; replies: number; tokens: number; costUsd: number }[];
}

/** Start of the UTC day and month `now` is in: the days of the tokens-per-day limit. */
function periodsOf(now: Date): { day: Date; month: Date } {
  return {
    day: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())),
    month: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
  };
}

/** One row per reply: what all its generations spent (older replies without `spent`: tokens_used). */
const SPENT = `coalesce((m.metadata #>> '{spent,tokens}')::bigint, m.tokens_used, 0) as tokens,
  coalesce((m.metadata #>> '{spent,costUsd}')::float8, 0) as cost`;

const BY_MODEL = (replies: string) => `
select coalesce(r.model, 'unknown') as model,
  count(*) filter (where r.created_at >= ?)::int as replies_today,
  coalesce(sum(r.tokens) filter (where r.created_at >= ?), 0)::float8 as tokens_today,
  coalesce(sum(r.cost) filter (where r.created_at >= ?), 0)::float8 as cost_today,
  count(*)::int as replies_month,
  coalesce(sum(r.tokens), 0)::float8 as tokens_month,
  coalesce(sum(r.cost), 0)::float8 as cost_month
from (${replies}) r
group by 1
order by tokens_month desc`;

interface ModelRow {
  model: string;
  replies_today: number;
  tokens_today: number;
  cost_today: number;
  replies_month: number;
  tokens_month: number;
  cost_month: number;
}

/**
 * A person's replies this UTC day and month, by model, from the stored
 * messages: the replies that answered them (metadata.spent.by), with every
 * regeneration and continuation. Reads only that person's replies, through
 * idx_messages_spent_by_created (0.7 ms instead of 89 ms with 200k replies in
 * the month, of 500 people).
 */
export async function userUsage(em: EntityManager, userId: string, now = new Date()): Promise<UsageReport> {
  const { day, month } = periodsOf(now);
  const rows = await em.execute<ModelRow[]>(
    BY_MODEL(`select m.model, m.created_at, ${SPENT} from messages m
      where m.role = 'assistant' and m.created_at >= ? and m.metadata #>> '{spent,by}' = ?`),
    [day, day, day, month, userId],
  );
  return reportOf(rows);
}

/**
 * A server's replies this UTC day and month, by model, and its heaviest users
 * this month: the server's conversations (idx_conversations_guild_id), then
 * their messages (idx_messages_conversation_created).
 */
export async function serverUsage(em: EntityManager, guildId: string, now = new Date()): Promise<ServerUsageReport> {
  const { day, month } = periodsOf(now);
  const replies = `select m.model, m.created_at, m.metadata #>> '{spent,by}' as by, ${SPENT}
    from conversations c join messages m on m.conversation_id = c.id
    where c.guild_id = ? and m.role = 'assistant' and m.created_at >= ? and m.tokens_used is not null`;
  const rows = await em.execute<ModelRow[]>(BY_MODEL(replies), [day, day, day, guildId, month]);
  const top = await em.execute<{ discord_id: string; replies: number; tokens: number; cost: number }[]>(
    `select u.discord_id, count(*)::int as replies, sum(r.tokens)::float8 as tokens, sum(r.cost)::float8 as cost
     from (${replies}) r join users u on u.id::text = r.by
     group by u.discord_id order by tokens desc limit 5`,
    [guildId, month],
  );
  return {
    ...reportOf(rows),
    topUsers: top.map((row) => ({ discordId: row.discord_id, replies: row.replies, tokens: row.tokens, costUsd: row.cost })),
  };
}

function reportOf(rows: ModelRow[]): UsageReport {
  const period = (pick: (row: ModelRow) => ModelUsage): PeriodUsage => {
    const byModel = rows.map(pick).filter((line) => line.replies > 0);
    const sum = (key: 'replies' | 'tokens' | 'costUsd') => byModel.reduce((total, line) => total + line[key], 0);
    return {
      replies: sum('replies'),
      tokens: sum('tokens'),
      costUsd: sum('costUsd'),
      byModel: byModel.sort((a, b) => b.tokens - a.tokens),
    };
  };
  return {
    today: period((row) => ({ model: row.model, replies: row.replies_today, tokens: row.tokens_today, costUsd: row.cost_today })),
    month: period((row) => ({ model: row.model, replies: row.replies_month, tokens: row.tokens_month, costUsd: row.cost_month })),
  };
}
