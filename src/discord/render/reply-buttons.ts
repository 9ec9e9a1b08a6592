import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIComponentInMessageActionRow } from 'discord.js';
import type { ReplyInfo } from '../../chat/reply-sink.js';
import { customId } from '../command.js';

/**
 * Under a finished reply: ◀ n/m ▶ between alternatives, 🔄 regenerate, ⏩ continue; 📚 Sources when memories went in.
 * Under a greeting: only ◀ n/m ▶ between the card's greetings, when it has several.
 */
export function replyButtons(info: ReplyInfo): APIActionRowComponent<APIComponentInMessageActionRow>[] {
  const { index, count } = info.alternative;
  const button = (id: string, label: string, disabled = false) => ({
    type: ComponentType.Button as const,
    style: ButtonStyle.Secondary as const,
    custom_id: id,
    label,
    disabled,
  });
  const swipes = [
    button(customId('chat', 'swipe', info.messageId, '-1'), '◀', count < 2),
    button(customId('chat', 'position', info.messageId), `${index}/${count}`, true),
    button(customId('chat', 'swipe', info.messageId, '1'), '▶', count < 2),
  ];
  // A greeting's versions are the card's greetings: ◀ ▶ between them when it has several, nothing else.
  if (info.greeting) return count < 2 ? [] : [{ type: ComponentType.ActionRow, components: swipes }];
  return [
    {
      type: ComponentType.ActionRow,
      components: [
        ...swipes,
        button(customId('chat', 'regenerate', info.messageId), '🔄'),
        button(customId('chat', 'continue', info.messageId), '⏩'),
      ],
    },
    ...(info.sources
      ? [
          {
            type: ComponentType.ActionRow as const,
            components: [button(customId('memory', 'sources', info.messageId), `📚 Sources (${info.sources})`)],
          },
        ]
      : []),
  ];
}
