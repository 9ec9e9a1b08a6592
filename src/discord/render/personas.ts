import { ActionRowBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder, ModalBuilder, TextInputBuilder, TextInputStyle } from 'discord.js';
import type { IPersona, PersonaScope } from '../../db/entities/index.js';
import { writeProxyTag } from '../../personas/proxy-tags.js';
import { customId } from '../command.js';

function clip(text: string | null | undefined, max: number): string {
  if (!text?.trim()) return '—';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function proxyTagsText(persona: IPersona): string {
  return persona.proxyTags.map(writeProxyTag).join('\n');
}

/** Where a persona is worn, in words. */
export function whereText(scope: PersonaScope, placeId: string): string {
  if (scope === 'everywhere') return 'everywhere';
  return scope === 'server' ? 'in this server' : `in <#${placeId}>`;
}

/** One persona, as /persona show renders it, with where it is worn; `avatarUrl`: the picture's link as it works now. */
export function personaEmbed(
  persona: IPersona,
  wornIn: string[] = [],
  avatarUrl: string | null | undefined = persona.avatarUrl,
): EmbedBuilder {
  return new EmbedBuilder()
    .setTitle(persona.name)
    .setDescription(clip(persona.description, 4000))
    .setThumbnail(avatarUrl ?? null)
    .addFields(
      { name: 'Proxy tags', value: clip(persona.proxyTags.map((tag) => `\`${writeProxyTag(tag)}\``).join(', '), 1000), inline: true },
      { name: 'Worn', value: clip(wornIn.join(', '), 1000), inline: true },
    )
    .setFooter({ text: persona.isNsfw ? 'NSFW: worn only where NSFW characters may run' : 'Your persona' });
}

/** One page of /persona list, with ◀ ▶ buttons that carry the offset. */
export function personaListPage(input: { items: IPersona[]; total: number; offset: number; pageSize: number; active?: string }) {
  const { items, total, offset, pageSize } = input;
  const lines = items.map(
    (persona, i) =>
      `**${offset + i + 1}. ${persona.name}**${persona.id === input.active ? ' · worn here' : ''}${persona.proxyTags.length ? ` · \`${writeProxyTag(persona.proxyTags[0]!)}\`` : ''}\n${clip(persona.description, 90).replace(/\n/g, ' ')}`,
  );
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const embed = new EmbedBuilder()
    .setTitle('Your personas')
    .setDescription(lines.join('\n\n') || 'None yet. Create one with /persona create, or bring yours with /persona import.')
    .setFooter({ text: `Page ${Math.floor(offset / pageSize) + 1} of ${pages} · ${total} in all` });
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(customId('persona', 'page', String(Math.max(0, offset - pageSize))))
      .setLabel('◀')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(offset === 0),
    new ButtonBuilder()
      .setCustomId(customId('persona', 'page', String(offset + pageSize)))
      .setLabel('▶')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(offset + pageSize >= total),
  );
  return { embeds: [embed], components: total > pageSize ? [row] : [] };
}

/** The create/edit form. */
export function personaModal(id: string, title: string, persona?: IPersona): ModalBuilder {
  const field = (
    fieldId: string,
    label: string,
    style: TextInputStyle,
    max: number,
    value?: string | null,
    required = false,
    placeholder?: string,
  ) => {
    const input = new TextInputBuilder().setCustomId(fieldId).setLabel(label).setStyle(style).setMaxLength(max).setRequired(required);
    if (value) input.setValue(value.slice(0, max));
    if (placeholder) input.setPlaceholder(placeholder);
    return new ActionRowBuilder<TextInputBuilder>().addComponents(input);
  };
  return new ModalBuilder()
    .setCustomId(id)
    .setTitle(title)
    .addComponents(
      field('name', 'Name (what characters call you)', TextInputStyle.Short, 80, persona?.name, true),
      field('description', 'Description (who you play, sent to the model)', TextInputStyle.Paragraph, 4000, persona?.description),
      field('avatar', 'Avatar image URL', TextInputStyle.Short, 2000, persona?.avatarUrl),
      field(
        'tags',
        'Proxy tags, one per line',
        TextInputStyle.Paragraph,
        500,
        persona ? proxyTagsText(persona) : '',
        false,
        'K:text\n[text]\ntext -k',
      ),
    );
}
