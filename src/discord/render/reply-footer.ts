import type { ReplyInfo } from '../../chat/reply-sink.js';
import { estimateCost, formatCost } from '../../usage/pricing.js';

/**
 * The small line under a finished reply (REPLY_FOOTER=true), in Discord's
 * subtext markdown: "-# gpt-4o-mini · 812 → 96 tokens · ~$0.00018". Nothing
 * when the tokens are not known (greetings, a swiped alternative).
 */
export function replyFooter(info: ReplyInfo): string | undefined {
  if (info.inputTokens === undefined || info.outputTokens === undefined) return undefined;
  const cost = estimateCost(info.model, { inputTokens: info.inputTokens, outputTokens: info.outputTokens });
  const model = info.model.replace(/[\\*_~`|#<>@\n]/g, '').slice(0, 80) || 'unknown model';
  const tokens = `${info.inputTokens.toLocaleString('en-US')} → ${info.outputTokens.toLocaleString('en-US')} tokens`;
  return `-# ${model} · ${tokens}${cost === undefined ? '' : ` · ~${formatCost(cost)}`}`;
}
