import { ActionRowBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder, ModalBuilder, TextInputBuilder, TextInputStyle } from 'discord.js';
import type { ICharacter } from '../../db/entities/index.js';
import { customId } from '../command.js';

const VISIBILITY_LABEL: Record<string, string> = { private: 'Private (only you)', guild: 'This server', public: 'Public' };

function clip(text: string | null | undefined, max: number): string {
  if (!text?.trim()) return '—';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The card of one character, as /character show renders it; `avatarUrl`: the picture's link as it works now. */
export function characterEmbed(character: ICharacter, avatarUrl: string | null | undefined = character.avatarUrl): EmbedBuilder {
  const config = character.config;
  return new EmbedBuilder()
    .setTitle(character.name)
    .setDescription(clip(character.personalityPrompt, 4000))
    .setThumbnail(avatarUrl ?? null)
    .addFields(
      { name: 'Greeting', value: clip(character.greeting, 1000) },
      { name: 'Visibility', value: VISIBILITY_LABEL[character.visibility] ?? character.visibility, inline: true },
      { name: 'Model', value: config.model ?? 'server default', inline: true },
      { name: 'Temperature', value: String(config.temperature ?? 'default'), inline: true },
      { name: 'Memory', value: config.memory_enabled === false ? 'off' : 'on', inline: true },
      { name: 'Tags', value: clip(character.tags.join(', '), 1000), inline: true },
    )
    .setFooter({ text: `by ${character.user.username ?? 'someone'}${character.isNsfw ? ' · NSFW' : ''}` });
}

/** One page of /character list, with ◀ ▶ buttons that carry the offset. */
export function characterListPage(input: { items: ICharacter[]; total: number; offset: number; pageSize: number; search: string }): {
  embeds: EmbedBuilder[];
  components: ActionRowBuilder<ButtonBuilder>[];
} {
  const { items, total, offset, pageSize } = input;
  const lines = items.map(
    (character, i) =>
      `**${offset + i + 1}. ${character.name}** · ${VISIBILITY_LABEL[character.visibility] ?? character.visibility}\n${clip(character.personalityPrompt, 90).replace(/\n/g, ' ')}`,
  );
  const page = Math.floor(offset / pageSize) + 1;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const embed = new EmbedBuilder()
    .setTitle('Characters you can use here')
    .setDescription(lines.join('\n\n') || 'None yet. Create one with /character create or /character import.')
    .setFooter({ text: `Page ${page} of ${pages} · ${total} in all` });
  const search = input.search.slice(0, 40);
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(customId('character', 'page', String(Math.max(0, offset - pageSize)), search))
      .setLabel('◀')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(offset === 0),
    new ButtonBuilder()
      .setCustomId(customId('character', 'page', String(offset + pageSize), search))
      .setLabel('▶')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(offset + pageSize >= total),
  );
  return { embeds: [embed], components: total > pageSize ? [row] : [] };
}

/** The longest text a Discord form field holds. */
const FORM_FIELD_MAX = 4000;

/** Whether the form could not show this value (then the field is left empty, and empty means "unchanged"). */
export function tooLongForForm(value: string | null | undefined): boolean {
  return (value?.length ?? 0) > FORM_FIELD_MAX;
}

/**
 * The create/edit form. Discord modals hold five text fields of at most 4,000 characters: a longer value (an
 * imported card's description, say) is never cut: its field stays empty, says so, and is kept unless typed over.
 */
export function characterModal(id: string, title: string, character?: ICharacter): ModalBuilder {
  const field = (fieldId: string, label: string, style: TextInputStyle, max: number, value?: string | null, required = false) => {
    const input = new TextInputBuilder().setCustomId(fieldId).setLabel(label).setStyle(style).setMaxLength(max);
    if (value && value.length > max) {
      input
        .setRequired(false)
        .setPlaceholder(`${value.length} characters, too long for this form: kept as it is unless you type here.`.slice(0, 100));
    } else {
      input.setRequired(required);
      if (value) input.setValue(value);
    }
    return new ActionRowBuilder<TextInputBuilder>().addComponents(input);
  };
  return new ModalBuilder()
    .setCustomId(id)
    .setTitle(title)
    .addComponents(
      field('name', 'Name', TextInputStyle.Short, 100, character?.name, true),
      field(
        'personality',
        'Personality (who they are, how they talk)',
        TextInputStyle.Paragraph,
        FORM_FIELD_MAX,
        character?.personalityPrompt,
        true,
      ),
      field('greeting', 'Greeting (first message)', TextInputStyle.Paragraph, FORM_FIELD_MAX, character?.greeting),
      field('examples', 'Example dialogue', TextInputStyle.Paragraph, FORM_FIELD_MAX, character?.exampleDialogue),
      field('avatar', 'Avatar image URL', TextInputStyle.Short, 2000, character?.avatarUrl),
    );
}
