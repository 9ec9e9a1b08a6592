import { InteractionContextType, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { removeAvatar } from '../src/characters/avatars.js';
import { actorOf } from '../src/discord/actor.js';
import { parseCustomId, type Command } from '../src/discord/command.js';
import { confirmRow, sourcesEmbed, summaryModal, summaryView } from '../src/discord/render/memory.js';
import { UserError } from '../src/errors.js';
import {
  assertCanManageMemory,
  canManageMemory,
  conversationIn,
  deleteUserData,
  exportConversation,
  forget,
  setMemoryPaused,
} from '../src/memory/control.js';
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
    const conversation = await conversationIn(em, interaction.channelId);
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
    for await (const line of exportConversation(em, conversation)) {
      const bytes = Buffer.from(line);
      if (size + bytes.length > EXPORT_LIMIT) {
        truncated = true;
        break;
      }
      parts.push(bytes);
      size += bytes.length;
    }
    await interaction.editReply({
      content: `${parts.length} messages${truncated ? ` (the first ${EXPORT_LIMIT / 1024 / 1024} MB; the conversation is longer)` : ''}.`,
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
      context.responder.forgetUser(interaction.user.id);
      for (const id of result.characterIds) await removeAvatar(context.config.database.dataDir, id);
      await interaction.update({
        content: `Done: ${result.messages} of your messages and ${result.memories} memories are deleted, with your characters and keys. Using the bot again starts afresh.`,
        components: [],
      });
      return;
    }
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
} satisfies Command;

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
