import { EmbedBuilder, userMention } from 'discord.js';
import type { LimitState, UsageLimits } from '../../usage/budget.js';
import { formatWait } from '../../usage/budget.js';
import { formatCost } from '../../usage/pricing.js';
import type { PeriodUsage, ServerUsageReport, UsageReport } from '../../usage/report.js';

const number = (value: number) => Math.round(value).toLocaleString('en-US');

function period(usage: PeriodUsage): string {
  if (!usage.replies) return 'No replies.';
  const total = `**${number(usage.replies)}** replies · **${number(usage.tokens)}** tokens · ~${formatCost(usage.costUsd)}`;
  const models = usage.byModel
    .slice(0, 6)
    .map((line) => `\`${line.model}\`: ${number(line.replies)} · ${number(line.tokens)} tokens · ~${formatCost(line.costUsd)}`);
  return [total, ...models].join('\n').slice(0, 1024);
}

const LABELS: Record<LimitState['name'], string> = {
  userMessagesPerMinute: 'Your messages this minute',
  userTokensPerDay: 'Your tokens today',
  serverMessagesPerMinute: 'Server messages this minute',
  serverTokensPerDay: 'Server tokens today',
};

function limits(states: LimitState[], now: number): string {
  return states
    .map((state) => {
      const of = state.limit > 0 ? ` of ${number(state.limit)}` : ' (no limit)';
      const full = state.limit > 0 && state.used >= state.limit ? ` — resets in ${formatWait(state.resetAt - now)}` : '';
      return `${LABELS[state.name]}: ${number(state.used)}${of}${full}`;
    })
    .join('\n');
}

/** `/usage show`: what the person used today and this month, their limits, and for an admin the server's. */
export function usageEmbeds(input: { mine: UsageReport; limits: LimitState[]; server?: ServerUsageReport; now: number }): EmbedBuilder[] {
  const costNote = 'Costs are estimates from list prices; models without a known price count $0.';
  const mine = new EmbedBuilder()
    .setTitle('Your usage')
    .addFields(
      { name: 'Today (UTC)', value: period(input.mine.today) },
      { name: 'This month', value: period(input.mine.month) },
      { name: 'Limits', value: limits(input.limits, input.now) || 'None.' },
    )
    .setFooter({ text: costNote });
  if (!input.server) return [mine];
  const top = input.server.topUsers
    .map(
      (user, i) =>
        `${i + 1}. ${userMention(user.discordId)}: ${number(user.replies)} replies · ${number(user.tokens)} tokens · ~${formatCost(user.costUsd)}`,
    )
    .join('\n');
  const server = new EmbedBuilder()
    .setTitle('This server')
    .addFields(
      { name: 'Today (UTC)', value: period(input.server.today) },
      { name: 'This month', value: period(input.server.month) },
      { name: 'Top users this month', value: top || 'Nobody yet.' },
    );
  return [mine, server];
}

/** `/usage limits`: the limits in force in this server, and which are its own. */
export function limitsText(effective: UsageLimits, own: Partial<UsageLimits>): string {
  const line = (label: string, name: keyof UsageLimits) => {
    const value = effective[name] > 0 ? number(effective[name]) : 'no limit';
    return `${label}: **${value}**${own[name] ? ' (set by this server)' : ''}`;
  };
  return [
    'Limits in this server (the operator’s, or lower where this server set its own):',
    line('Messages a minute, per person', 'userMessagesPerMinute'),
    line('Tokens a day, per person', 'userTokensPerDay'),
    line('Messages a minute, whole server', 'serverMessagesPerMinute'),
    line('Tokens a day, whole server', 'serverTokensPerDay'),
    'Set one to 0 to go back to the operator’s limit.',
  ].join('\n');
}
