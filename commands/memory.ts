import { type AutocompleteInteraction, InteractionContextType, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { removeAvatar } from '../src/characters/avatars.js';
import { actorOf } from '../src/discord/actor.js';
import { autocompleteCharacters } from '../src/discord/character-options.js';
import { parseCustomId, type Command, type CommandContext } from '../src/discord/command.js';
import { notesModal, notesView, pinsView } from '../src/discord/render/notes.js';
import { confirmRow, sourcesEmbed, summaryModal, summaryView } from '../src/discord/render/memory.js';
import { UserError } from '../src/errors.js';
import {
  assertCanManageMemory,
  canManageMemory,
  conversationIn,
  exportConversation,
  forget,
  setMemoryPaused,
} from '../src/memory/control.js';
import { deleteUserData } from '../src/memory/delete-user-data.js';
import { queueMemorize } from '../src/memory/memorize.js';
import { exportNotes, notesCharacter, replaceNotes, shownNotes } from '../src/memory/notes.js';
import { PINS_PER_CONVERSATION, pinMessage, pinsOf, unpinMessage } from '../src/memory/pins.js';
import { replySources } from '../src/memory/sources.js';
import { saveSummary, summaryOf } from '../src/memory/summary.js';

/** How far back /memory forget recent reaches. */
const RECENT = { '15m': 15, '1h': 60, '6h': 360, '1d': 1440, '7d': 10_080, '30d': 43_200 } as const;
/** Largest export attached to a reply. */
const EXPORT_LIMIT = 8 * 1024 * 1024;

export default {
  data: new SlashCommandBuilder()
    .setName('memory')
    .setDescription('What characters remember of this conversation.')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .addSubcommand((sub) => sub.setName('summary').setDescription('The running summary of this conversation (its starter can edit it).'))
    .addSubcommandGroup((group) =>
      group
        .setName('forget')
        .setDescription('Make the character forget, for real.')
        .addSubcommand((sub) =>
          sub
            .setName('message')
            .setDescription('Forget one message (yours, or any if you started this conversation).')
            .addStringOption((o) =>
              o.setName('message').setDescription('A message link or ID (right-click → Copy Message Link)').setRequired(true),
            ),
        )
        .addSubcommand((sub) =>
          sub
            .setName('recent')
            .setDescription('Forget everything said here lately.')
            .addStringOption((o) =>
              o
                .setName('last')
                .setDescription('How far back')
                .setRequired(true)
                .addChoices(
                  { name: '15 minutes', value: '15m' },
                  { name: '1 hour', value: '1h' },
                  { name: '6 hours', value: '6h' },
                  { name: '1 day', value: '1d' },
                  { name: '7 days', value: '7d' },
                  { name: '30 days', value: '30d' },
                ),
            ),
        )
        .addSubcommand((sub) => sub.setName('everything').setDescription('Forget this whole conversation (asks to confirm).')),
    )
    .addSubcommand((sub) =>
      sub
        .setName('notes')
        .setDescription('What a character keeps in mind about you (you can edit it).')
        .addStringOption((o) => o.setName('character').setDescription('Which character (default: the one here)').setAutocomplete(true)),
    )
    .addSubcommand((sub) =>
      sub
        .setName('pin')
        .setDescription('Keep one message of this conversation in every reply here.')
        .addStringOption((o) =>
          o.setName('message').setDescription('A message link or ID (right-click → Copy Message Link)').setRequired(true),
        ),
    )
    .addSubcommand((sub) =>
      sub
        .setName('unpin')
        .setDescription('Stop keeping a pinned message in mind.')
        .addStringOption((o) => o.setName('message').setDescription('A message link or ID (see /memory pins)').setRequired(true)),
    )
    .addSubcommand((sub) => sub.setName('pins').setDescription('The messages pinned in this conversation.'))
    .addSubcommand((sub) => sub.setName('pause').setDescription('Stop remembering new things here until /memory resume.'))
    .addSubcommand((sub) => sub.setName('resume').setDescription('Remember new things here again.'))
    .addSubcommand((sub) => sub.setName('export').setDescription('This conversation as a JSON Lines file, only for you.'))
    .addSubcommand((sub) =>
      sub.setName('delete-my-data').setDescription('Delete everything the bot keeps about you, everywhere (asks to confirm).'),
    ),

  async execute(interaction, context) {
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    const group = interaction.options.getSubcommandGroup(false);
    const sub = interaction.options.getSubcommand();
    const ephemeral = { flags: MessageFlags.Ephemeral } as const;
    if (sub === 'delete-my-data') {
      await interaction.reply({
        ...ephemeral,
        content:
          'This deletes your messages and every memory of you, your characters (with their knowledge and conversations), ' +
          'your API keys and your direct-message conversations, in every server. It cannot be undone.',
        components: [confirmRow('delete-me', 'Delete everything of mine')],
      });
      return;
    }
    if (sub === 'notes') {
      const character = await notesCharacter(em, actor, interaction.options.getString('character'), interaction.channelId);
      await interaction.reply({
        ...ephemeral,
        ...notesView(character.name, character.id, await shownNotes(em, actor.user.id, character.id, interaction.channelId)),
      });
      return;
    }
    const conversation = await conversationIn(em, interaction.channelId);
    if (sub === 'pin' || sub === 'unpin') {
      const discordMessageId = messageIdOf(interaction.options.getString('message', true));
      if (sub === 'pin') {
        const pin = await pinMessage(em, actor, conversation, discordMessageId);
        await interaction.reply({
          ...ephemeral,
          content: `Pinned ${pin.speaker}’s message: the characters here keep it in mind in every reply.`,
        });
      } else {
        await unpinMessage(em, actor, conversation, discordMessageId);
        await interaction.reply({ ...ephemeral, content: 'Unpinned.' });
      }
      return;
    }
    if (sub === 'pins') {
      const place = { ...(interaction.guildId ? { guildId: interaction.guildId } : {}), channelId: interaction.channelId };
      await interaction.reply({
        ...ephemeral,
        ...pinsView(await pinsOf(em, conversation.id), context.config.discord.webUrl, place, PINS_PER_CONVERSATION),
      });
      return;
    }
    if (group === 'forget') {
      if (sub === 'everything') {
        assertCanManageMemory(actor, conversation);
        await interaction.reply({
          ...ephemeral,
          content:
            'Forget every message and memory of this conversation? The characters will not remember any of it. This cannot be undone.',
          components: [confirmRow('forget-all', 'Forget everything', conversation.id)],
        });
        return;
      }
      const range =
        sub === 'message'
          ? { discordMessageId: messageIdOf(interaction.options.getString('message', true)) }
          : { since: new Date(Date.now() - RECENT[interaction.options.getString('last', true) as keyof typeof RECENT] * 60_000) };
      const result = await forget(em, actor, conversation, range);
      await interaction.reply({ ...ephemeral, content: forgotten(result) });
      return;
    }
    if (sub === 'summary') {
      await interaction.reply({
        ...ephemeral,
        ...summaryView(summaryOf(conversation), conversation.id, canManageMemory(actor, conversation)),
      });
      return;
    }
    if (sub === 'pause' || sub === 'resume') {
      const changed = await setMemoryPaused(em, actor, conversation, sub === 'pause');
      const state = sub === 'pause' ? 'Memory is paused here: nothing new is remembered or summarised.' : 'Memory is on again here.';
      await interaction.reply({ ...ephemeral, content: changed ? state : `Nothing changed. ${state}` });
      return;
    }
    await interaction.deferReply(ephemeral);
    const parts: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let notes = 0;
    for await (const line of exportAll(em, actor.user.id, conversation)) {
      if (line.startsWith('{"kind":"note"')) notes += 1;
      const bytes = Buffer.from(line);
      if (size + bytes.length > EXPORT_LIMIT) {
        truncated = true;
        break;
      }
      parts.push(bytes);
      size += bytes.length;
    }
    await interaction.editReply({
      content: `${parts.length - notes} messages${notes ? ` and ${notes} notes about you` : ''}${truncated ? ` (the first ${EXPORT_LIMIT / 1024 / 1024} MB; the conversation is longer)` : ''}.`,
      files: [{ attachment: Buffer.concat(parts), name: `conversation-${interaction.channelId}.jsonl` }],
    });
  },

  /** 📚 Sources under replies, the summary's Edit button and form, and the confirmations. */
  async interact(interaction, context) {
    const { action, args } = parseCustomId(interaction.customId);
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    if (interaction.isButton() && action === 'sources') {
      const { characterName, sources, images } = await replySources(em, args[0] ?? '', {
        userId: actor.user.id,
        channelId: interaction.channelId ?? '',
      });
      await interaction.reply({
        embeds: [sourcesEmbed(characterName, sources, context.config.discord.webUrl, images)],
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (interaction.isButton() && action === 'cancel') {
      await interaction.update({ content: 'Cancelled: nothing was deleted.', components: [] });
      return;
    }
    if (interaction.isButton() && action === 'delete-me') {
      const result = await deleteUserData(em, actor.user.id);
      // Memories that quoted them are made again from the rewritten replies; a lost job only costs that memory.
      for (const id of result.rememorize) {
        await queueMemorize(context.queue, { id }).catch((error: unknown) =>
          context.logger.warn({ err: error, message: id }, 'could not queue a memory after delete-my-data'),
        );
      }
      context.responder.forgetUser(interaction.user.id);
      for (const id of result.characterIds) await removeAvatar(context.config.database.dataDir, id);
      await context.usage.forgetUser(interaction.user.id);
      await interaction.update({
        content:
          `Done: ${result.messages} of your messages, ${result.replies} replies written to you and ${result.memories} memories are deleted, ` +
          'with your characters and keys. Using the bot again starts afresh.',
        components: [],
      });
      return;
    }
    if (action === 'edit-notes' || action === 'save-notes') return notesForm(interaction, em, actor, args);
    const conversation = await conversationIn(em, interaction.channelId ?? '');
    if (conversation.id !== args[0]) throw new UserError('That button belongs to another conversation.');
    assertCanManageMemory(actor, conversation);
    if (interaction.isButton() && action === 'forget-all') {
      const result = await forget(em, actor, conversation, { everything: true });
      await interaction.update({ content: forgotten(result), components: [] });
      return;
    }
    if (interaction.isButton() && action === 'edit-summary') {
      await interaction.showModal(summaryModal(conversation.id, summaryOf(conversation)?.text ?? ''));
      return;
    }
    if (interaction.isModalSubmit() && action === 'save-summary') {
      const text = interaction.fields.getTextInputValue('text').trim();
      const previous = summaryOf(conversation);
      await saveSummary(
        em,
        conversation.id,
        { text, upToId: previous?.upToId, upToAt: previous?.upToAt, updatedAt: new Date().toISOString(), editedBy: actor.user.id },
        null,
      );
      await interaction.reply({
        content: text ? 'Saved. The characters here keep this summary in mind.' : 'The summary is now empty.',
        flags: MessageFlags.Ephemeral,
      });
    }
  },

  async autocomplete(interaction: AutocompleteInteraction, context: CommandContext) {
    if (interaction.options.getFocused(true).name === 'character') await autocompleteCharacters(interaction, context);
  },
} satisfies Command;

/** The conversation's messages, then the notes about the person exporting (only they receive the file). */
async function* exportAll(
  em: Parameters<typeof exportConversation>[0],
  userId: string,
  conversation: Parameters<typeof exportConversation>[1],
) {
  yield* exportConversation(em, conversation);
  yield* exportNotes(em, userId, conversation);
}

/**
 * The notes' Edit button and form. They only ever touch the presser's own notes, so the character named in the
 * button (any the presser may use) is all they need.
 */
async function notesForm(
  interaction: Parameters<NonNullable<Command['interact']>>[0],
  em: Parameters<typeof exportConversation>[0],
  actor: Awaited<ReturnType<typeof actorOf>>,
  args: string[],
): Promise<void> {
  const character = await notesCharacter(em, actor, args[0] ?? '', interaction.channelId ?? '');
  const channelId = interaction.channelId ?? '';
  if (interaction.isButton()) {
    await interaction.showModal(
      notesModal(character.id, character.name, await shownNotes(em, actor.user.id, character.id, channelId), Date.now()),
    );
    return;
  }
  if (!interaction.isModalSubmit()) return;
  const openedAt = Number(args[1] ?? Date.now());
  const shown = (await shownNotes(em, actor.user.id, character.id, channelId)).filter((note) => note.updatedAt.getTime() <= openedAt);
  const here = await conversationIn(em, channelId).catch(() => undefined);
  const count = await replaceNotes(em, {
    userId: actor.user.id,
    characterId: character.id,
    conversationId: here?.id,
    shown: shown.map((note) => note.content),
    text: interaction.fields.getTextInputValue('notes'),
  });
  await interaction.reply({
    flags: MessageFlags.Ephemeral,
    content: count
      ? `Saved: ${character.name} keeps ${count} note${count === 1 ? '' : 's'} about you.`
      : `${character.name} keeps no notes about you now.`,
  });
}

/** A message link (…/channels/guild/channel/message) or a bare message ID. */
function messageIdOf(input: string): string {
  const id = input.trim().match(/(\d{17,20})\s*$/)?.[1];
  if (!id) throw new UserError('That is not a message link or ID. Right-click the message → Copy Message Link, and paste it here.');
  return id;
}

function forgotten(result: { messages: number; memories: number; summaryCleared: boolean }): string {
  if (!result.messages) return 'There was nothing to forget in that range.';
  const summary = result.summaryCleared ? ' The running summary may have held some of it, so it was deleted too.' : '';
  return `Forgotten: ${result.messages} message${result.messages === 1 ? '' : 's'} and ${result.memories} memor${result.memories === 1 ? 'y' : 'ies'}.${summary}`;
}
