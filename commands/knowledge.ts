import { InteractionContextType, MessageFlags, SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { assertDownloadableUrl } from '../src/knowledge/download.js';
import { findUsableCharacter } from '../src/characters/characters.js';
import type { ICharacter, ICharacterKnowledge } from '../src/db/entities/index.js';
import { actorOf } from '../src/discord/actor.js';
import { autocompleteCharacters } from '../src/discord/character-options.js';
import type { Command, CommandContext } from '../src/discord/command.js';
import { ingestStatusText, knowledgeListEmbed, knowledgeSearchEmbed } from '../src/discord/render/knowledge.js';
import type { IngestProgress } from '../src/knowledge/ingest-job.js';
import {
  addKnowledge,
  findKnowledge,
  INGEST_QUEUE,
  ingestJobId,
  listKnowledge,
  removeKnowledge,
  searchKnowledge,
} from '../src/knowledge/knowledge.js';
import { assertCan } from '../src/permissions/access.js';
import { accessFor } from '../src/permissions/guild-settings.js';

const characterOption = (o: import('discord.js').SlashCommandStringOption) =>
  o.setName('character').setDescription('Whose knowledge').setRequired(true).setAutocomplete(true);

export default {
  data: new SlashCommandBuilder()
    .setName('knowledge')
    .setDescription('Files and pages a character learns from.')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .addSubcommand((sub) =>
      sub
        .setName('add')
        .setDescription('Teach a character a file (text, Markdown, PDF, DOCX, HTML, JSON, CSV, a card’s lorebook).')
        .addStringOption(characterOption)
        .addAttachmentOption((o) => o.setName('file').setDescription('The file').setRequired(true))
        .addStringOption((o) => o.setName('name').setDescription('A name for it (default: the file name)')),
    )
    .addSubcommand((sub) =>
      sub
        .setName('add-url')
        .setDescription('Teach a character a web page.')
        .addStringOption(characterOption)
        .addStringOption((o) => o.setName('url').setDescription('https://…').setRequired(true))
        .addStringOption((o) => o.setName('name').setDescription('A name for it')),
    )
    .addSubcommand((sub) => sub.setName('list').setDescription('What a character knows.').addStringOption(characterOption))
    .addSubcommand((sub) =>
      sub
        .setName('remove')
        .setDescription('Forget a file or page.')
        .addStringOption(characterOption)
        .addStringOption((o) => o.setName('item').setDescription('Which one').setRequired(true).setAutocomplete(true)),
    )
    .addSubcommand((sub) =>
      sub
        .setName('search')
        .setDescription('What the character would recall for a question.')
        .addStringOption(characterOption)
        .addStringOption((o) => o.setName('query').setDescription('A question').setRequired(true)),
    ),

  async execute(interaction, context) {
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    const character = await findUsableCharacter(em, actor, interaction.options.getString('character', true));
    const sub = interaction.options.getSubcommand();
    if (sub === 'add' || sub === 'add-url' || sub === 'remove') assertCan(actor, 'uploadKnowledge', await accessFor(em, actor));
    if (sub === 'add' || sub === 'add-url') {
      const file = sub === 'add' ? interaction.options.getAttachment('file', true) : undefined;
      const url = file?.url ?? interaction.options.getString('url', true).trim();
      if (!file) assertDownloadableUrl(url, context.config.secrets.allowPrivateEndpoints);
      const sourceName = file?.name ?? url;
      const name = interaction.options.getString('name')?.trim() || sourceName;
      const item = await addKnowledge(em, context.queue, actor, character, {
        url,
        name,
        sourceName,
        sourceType: file ? 'file' : 'url',
        size: file?.size,
        mimeType: file?.contentType ?? undefined,
      });
      await interaction.reply({ content: ingestStatusText(name, character.name, undefined), flags: MessageFlags.Ephemeral });
      await followProgress(interaction, context, character, item);
      return;
    }
    if (sub === 'list') {
      await interaction.reply({
        embeds: [knowledgeListEmbed(character.name, await listKnowledge(em, character))],
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (sub === 'remove') {
      const item = await removeKnowledge(em, actor, character, interaction.options.getString('item', true));
      await interaction.reply({ content: `**${character.name}** no longer knows **${item.name}**.`, flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const query = interaction.options.getString('query', true);
    const hits = await searchKnowledge(em, context.embedder, character, query, 5);
    await interaction.editReply({ embeds: [knowledgeSearchEmbed(character.name, query, hits)] });
  },

  async autocomplete(interaction, context) {
    const focused = interaction.options.getFocused(true);
    if (focused.name === 'character') return autocompleteCharacters(interaction, context);
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    const character = await findUsableCharacter(em, actor, interaction.options.getString('character') ?? '');
    const typed = focused.value.toLowerCase();
    const items = (await listKnowledge(em, character)).filter((item) => item.name.toLowerCase().includes(typed)).slice(0, 25);
    await interaction.respond(items.map((item) => ({ name: item.name.slice(0, 100), value: item.id })));
  },
} satisfies Command;

/**
 * Edits the reply as the ingest job advances (every 2 s, at most until the
 * interaction token expires), ending with the result or the reason it failed.
 * The job may run in another process: progress comes from the queue.
 */
async function followProgress(
  interaction: ChatInputCommandInteraction,
  context: CommandContext,
  character: ICharacter,
  item: ICharacterKnowledge,
): Promise<void> {
  const deadline = Date.now() + 14 * 60_000;
  let shown = '';
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const job = await context.queue.getJob(INGEST_QUEUE, ingestJobId(item.id));
    const row = await findKnowledge(context.database.orm.em.fork(), item.id);
    if (!row) return;
    const text = ingestStatusText(item.name, character.name, job?.progress as IngestProgress | undefined, row);
    if (text !== shown) {
      shown = text;
      await interaction.editReply(text).catch(() => undefined);
    }
    if (row.status === 'completed' || row.status === 'failed') return;
  }
}
