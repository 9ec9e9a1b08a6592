import { ActionRowBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder, ModalBuilder, TextInputBuilder, TextInputStyle } from 'discord.js';
import type { MessageRef } from '../../chat/prompt.js';
import type { ConversationSummary } from '../../memory/summary.js';
import { SUMMARY_MAX_CHARS } from '../../memory/summary.js';
import type { ShownImage, ShownSource } from '../../memory/sources.js';
import { customId } from '../command.js';

const KIND_LABEL: Record<ShownSource['kind'], string> = {
  lore: '🌍 Lore',
  knowledge: '📄 Knowledge',
  conversation: '💬 Earlier here',
  other: '🗂️ Another conversation',
  note: '📝 Note',
  pin: '📌 Pinned',
};

/** The link to a Discord message, on the Discord web host (DISCORD_WEB_URL, https://discord.com by default). */
export function messageUrl(webUrl: string, message: MessageRef): string {
  return `${webUrl.replace(/\/+$/, '')}/channels/${message.guildId ?? '@me'}/${message.channelId}/${message.messageId}`;
}

/** The ephemeral answer to a reply's 📚 Sources button; earlier exchanges link to their messages on `webUrl`. */
export function sourcesEmbed(characterName: string, sources: ShownSource[], webUrl: string, images: ShownImage[] = []): EmbedBuilder {
  const embed = new EmbedBuilder().setTitle(`What ${characterName} had in mind`.slice(0, 256));
  if (!sources.length && !images.length)
    return embed.setDescription('Nothing from memory, notes, pins, lore or knowledge went into this reply: only the recent messages.');
  const lines = sources.map((source) => {
    const score = source.score === undefined ? '' : ` · ${source.score.toFixed(2)}`;
    const url = source.jump ? messageUrl(webUrl, source.jump) : source.url;
    const label = url ? `[${source.label ?? 'link'}](${url})` : (source.label ?? '');
    const head = `**${KIND_LABEL[source.kind]}**${score}${label ? ` · ${label}` : ''}`;
    if (source.state === 'forgotten') return `${head}\n*forgotten since*`;
    if (source.state === 'private')
      return `${head}\n*${source.kind === 'note' ? 'a note about someone else' : 'a memory of someone else’s conversation'}*`;
    return `${head}\n> ${source.excerpt?.replace(/\n/g, ' ') ?? ''}`;
  });
  for (const image of images) {
    const head = `**Picture** · shared by ${image.sharedBy}`;
    if (image.state === 'forgotten') lines.push(`${head}\n*forgotten since*`);
    else if (image.state === 'uncaptioned') lines.push(`${head}\n*no caption (no captioner is set up)*`);
    else lines.push(`${head}\n> ${image.caption!.replace(/\n/g, ' ')}`);
  }
  return embed.setDescription(fitLines(lines, 4000));
}

/** /memory summary: the running summary and who may edit it. */
export function summaryView(summary: ConversationSummary | undefined, conversationId: string, canEdit: boolean) {
  const embed = new EmbedBuilder().setTitle('The story so far');
  const text = summary?.text.trim().slice(0, 4000);
  embed.setDescription(
    text ||
      (summary
        ? 'The summary is empty (someone cleared it). Older messages are summarised here again as the conversation goes on.'
        : 'No summary yet. Once this conversation is longer than what fits in a prompt, older messages are summarised here in the background.'),
  );
  if (summary) {
    const covered = summary.upToAt ? `Covers messages up to ${new Date(summary.upToAt).toUTCString()}.` : '';
    embed.setFooter({ text: `${covered}${summary.editedBy ? ' Edited by hand.' : ''}`.trim() || 'Written by hand.' });
  }
  const components = canEdit
    ? [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder()
            .setCustomId(customId('memory', 'edit-summary', conversationId))
            .setLabel('Edit')
            .setStyle(ButtonStyle.Secondary),
        ),
      ]
    : [];
  return { embeds: [embed], components };
}

export function summaryModal(conversationId: string, text: string): ModalBuilder {
  const field = new TextInputBuilder()
    .setCustomId('text')
    .setLabel('Summary (what the character keeps in mind)')
    .setStyle(TextInputStyle.Paragraph)
    .setRequired(false)
    .setMaxLength(SUMMARY_MAX_CHARS);
  if (text) field.setValue(text.slice(0, SUMMARY_MAX_CHARS));
  return new ModalBuilder()
    .setCustomId(customId('memory', 'save-summary', conversationId))
    .setTitle('Edit the story so far')
    .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(field));
}

/** A red confirm button and a cancel button, for what cannot be undone. */
export function confirmRow(action: string, label: string, ...args: string[]) {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(customId('memory', action, ...args))
      .setLabel(label)
      .setStyle(ButtonStyle.Danger),
    new ButtonBuilder().setCustomId(customId('memory', 'cancel')).setLabel('Cancel').setStyle(ButtonStyle.Secondary),
  );
}

function fitLines(lines: string[], limit: number): string {
  let text = '';
  for (const [i, line] of lines.entries()) {
    const more = `\n…and ${lines.length - i} more`;
    if (text.length + line.length + 2 + more.length > limit) return `${text}${more}`;
    text += `${text ? '\n\n' : ''}${line}`;
  }
  return text;
}
