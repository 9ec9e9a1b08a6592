import { ActionRowBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder, ModalBuilder, TextInputBuilder, TextInputStyle } from 'discord.js';
import type { MessageRef } from '../../chat/prompt.js';
import type { ShownNote } from '../../memory/notes.js';
import { NOTE_CHARS, NOTES_PER_PERSON } from '../../memory/notes-extract.js';
import type { PinnedMessage } from '../../memory/pins.js';
import { customId } from '../command.js';
import { messageUrl } from './memory.js';

/** /memory notes: what a character keeps about the person asking, with an Edit button (only they see it). */
export function notesView(characterName: string, characterId: string, notes: ShownNote[]) {
  const embed = new EmbedBuilder().setTitle(`What ${characterName} knows about you`.slice(0, 256));
  if (!notes.length) {
    embed.setDescription(
      `${characterName} has no notes about you yet. As you talk, it notes lasting facts you mention (names, people in your ` +
        'life, likes, plans, promises). Press Edit to write some yourself.',
    );
  } else {
    const lines = notes.map((note) => {
      const marks = [note.persona ? `as ${note.persona}` : '', note.edited ? 'written by you' : '', note.here ? '' : 'said elsewhere']
        .filter(Boolean)
        .join(', ');
      return `• ${note.content}${marks ? ` *(${marks})*` : ''}`;
    });
    embed.setDescription(lines.join('\n').slice(0, 4000));
    embed.setFooter({
      text: `${notes.length} of at most ${NOTES_PER_PERSON}. Always in ${characterName}'s mind when it answers you, where the privacy rules allow.`,
    });
  }
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(customId('memory', 'edit-notes', characterId))
      .setLabel('Edit')
      .setStyle(ButtonStyle.Secondary),
  );
  return { embeds: [embed], components: [row] };
}

/** The form: one note per line. `openedAt` tells the save which notes the form showed (newer ones stay). */
export function notesModal(characterId: string, characterName: string, notes: ShownNote[], openedAt: number): ModalBuilder {
  const field = new TextInputBuilder()
    .setCustomId('notes')
    .setLabel('One note per line (clear a line to delete it)')
    .setStyle(TextInputStyle.Paragraph)
    .setRequired(false)
    .setMaxLength(NOTES_PER_PERSON * (NOTE_CHARS + 1));
  const text = notes.map((note) => note.content).join('\n');
  if (text) field.setValue(text);
  return new ModalBuilder()
    .setCustomId(customId('memory', 'save-notes', characterId, String(openedAt)))
    .setTitle(`Notes ${characterName} keeps about you`.slice(0, 45))
    .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(field));
}

/** /memory pins: the messages kept in every prompt here, with links. */
export function pinsView(pins: PinnedMessage[], webUrl: string, place: Omit<MessageRef, 'messageId'>, max: number) {
  const embed = new EmbedBuilder().setTitle('Pinned messages');
  if (!pins.length) {
    return {
      embeds: [
        embed.setDescription(
          'Nothing is pinned here. `/memory pin message:<link>` keeps a message in the characters’ minds for every reply here.',
        ),
      ],
    };
  }
  const lines = pins.map((pin) => {
    const text = pin.content.replace(/\s+/g, ' ').trim();
    const excerpt = text.length > 200 ? `${text.slice(0, 199)}…` : text;
    const link = pin.discordMessageId ? ` · [jump](${messageUrl(webUrl, { ...place, messageId: pin.discordMessageId })})` : '';
    return `**${pin.speaker}**${link}\n> ${excerpt}`;
  });
  embed
    .setDescription(lines.join('\n\n').slice(0, 4000))
    .setFooter({ text: `${pins.length} of at most ${max}. /memory unpin removes one.` });
  return { embeds: [embed] };
}
