import {
  InteractionContextType,
  MessageFlags,
  SlashCommandBuilder,
  type AutocompleteInteraction,
  type SlashCommandStringOption,
} from 'discord.js';
import { findUsableCharacter } from '../src/characters/characters.js';
import { actorOf } from '../src/discord/actor.js';
import { autocompleteCharacters } from '../src/discord/character-options.js';
import { parseCustomId, type Command, type CommandContext } from '../src/discord/command.js';
import { linesOf, loreFormLeavesOut, loreListPage, loreModal } from '../src/discord/render/lore.js';
import { UserError } from '../src/errors.js';
import { assertCanChangeKnowledge } from '../src/knowledge/knowledge.js';
import { assertCan } from '../src/permissions/access.js';
import { accessFor } from '../src/permissions/guild-settings.js';
import { CARD_LIMITS } from '../src/cards/card-limits.js';
import { download } from '../src/knowledge/download.js';
import { exportLoreFile, importLoreFile, readLoreFile } from '../src/knowledge/world-info.js';
import { guardedFetch } from '../src/llm/endpoint-guard.js';
import { addLore, editLore, findLore, listLore, removeLore, splitKeys, type LoreItem, type LorePatch } from '../src/knowledge/lore.js';

const characterOption = (o: SlashCommandStringOption) =>
  o.setName('character').setDescription('Whose lorebook').setRequired(true).setAutocomplete(true);
const entryOption = (o: SlashCommandStringOption) =>
  o.setName('entry').setDescription('Which lore entry (by name or keyword)').setRequired(true).setAutocomplete(true);

export default {
  data: new SlashCommandBuilder()
    .setName('lore')
    .setDescription('World info: entries a character is told when their keywords come up.')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .addSubcommand((sub) =>
      sub
        .setName('add')
        .setDescription('Add a lore entry.')
        .addStringOption(characterOption)
        .addStringOption((o) =>
          o
            .setName('keys')
            .setDescription('Keywords, separated by commas (/pattern/i for a regular expression)')
            .setRequired(true)
            .setMaxLength(2000),
        )
        .addStringOption((o) =>
          o.setName('content').setDescription('What the character is told when a keyword comes up').setRequired(true).setMaxLength(6000),
        )
        .addStringOption((o) => o.setName('name').setDescription('A name for it (default: its first keywords)').setMaxLength(200))
        .addBooleanOption((o) => o.setName('constant').setDescription('Always included, keywords or not'))
        .addBooleanOption((o) => o.setName('regex').setDescription('Every keyword is a regular expression'))
        .addBooleanOption((o) => o.setName('case_sensitive').setDescription('Keywords match only with the same capitals'))
        .addStringOption((o) =>
          o.setName('secondary_keys').setDescription('Only when one of these also comes up (commas)').setMaxLength(2000),
        )
        .addIntegerOption((o) =>
          o.setName('priority').setDescription('Higher goes in first when space is short (default 0)').setMinValue(-1000).setMaxValue(1000),
        ),
    )
    .addSubcommand((sub) =>
      sub
        .setName('edit')
        .setDescription('Change a lore entry in a form; flags given here are saved at once.')
        .addStringOption(characterOption)
        .addStringOption(entryOption)
        .addBooleanOption((o) => o.setName('constant').setDescription('Always included, keywords or not'))
        .addBooleanOption((o) => o.setName('regex').setDescription('Every keyword is a regular expression'))
        .addBooleanOption((o) => o.setName('case_sensitive').setDescription('Keywords match only with the same capitals'))
        .addBooleanOption((o) => o.setName('enabled').setDescription('Off keeps the entry but never uses it'))
        .addIntegerOption((o) =>
          o.setName('priority').setDescription('Higher goes in first when space is short').setMinValue(-1000).setMaxValue(1000),
        ),
    )
    .addSubcommand((sub) =>
      sub.setName('remove').setDescription('Delete a lore entry.').addStringOption(characterOption).addStringOption(entryOption),
    )
    .addSubcommand((sub) => sub.setName('list').setDescription('A character’s lore entries.').addStringOption(characterOption))
    .addSubcommand((sub) =>
      sub
        .setName('import')
        .setDescription('Add the entries of a SillyTavern world-info file (or of a card’s lorebook).')
        .addStringOption(characterOption)
        .addAttachmentOption((o) => o.setName('file').setDescription('World-info JSON, or a card (PNG, JSON, CHARX)').setRequired(true)),
    )
    .addSubcommand((sub) =>
      sub.setName('export').setDescription('Download the lorebook as a SillyTavern world-info file.').addStringOption(characterOption),
    ),

  async execute(interaction, context) {
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    const character = await findUsableCharacter(em, actor, interaction.options.getString('character', true));
    const sub = interaction.options.getSubcommand();
    if (sub !== 'list' && sub !== 'export') assertCan(actor, 'uploadKnowledge', await accessFor(em, actor));
    if (sub === 'import') {
      assertCanChangeKnowledge(actor, character);
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const file = interaction.options.getAttachment('file', true);
      const fetcher = guardedFetch({ allowPrivate: context.config.secrets.allowPrivateEndpoints });
      const entries = await readLoreFile(await download(file.url, { maxBytes: CARD_LIMITS.fileBytes, timeoutMs: 30_000 }, fetcher));
      const added = await importLoreFile(em, context.queue, actor, character, entries);
      const off = entries.filter((entry) => entry.enabled === false).length;
      await interaction.editReply(
        `Added ${added} lore entries to **${character.name}**${off ? ` (${off} of them switched off, as in the file)` : ''}. See /lore list.`,
      );
      return;
    }
    if (sub === 'export') {
      const file = Buffer.from(JSON.stringify(await exportLoreFile(em, character), null, 2));
      await interaction.reply({
        content: `**${character.name}**’s lorebook as a SillyTavern world-info file.`,
        files: [{ attachment: file, name: `${character.name.replace(/[^\w.-]+/g, '_')}-lore.json` }],
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const option = {
      boolean: (name: string) => interaction.options.getBoolean(name) ?? undefined,
      integer: (name: string) => interaction.options.getInteger(name) ?? undefined,
    };
    if (sub === 'add') {
      const item = await addLore(em, context.queue, actor, character, {
        keys: splitKeys(interaction.options.getString('keys', true)),
        content: interaction.options.getString('content', true),
        name: interaction.options.getString('name') ?? undefined,
        constant: option.boolean('constant'),
        useRegex: option.boolean('regex'),
        caseSensitive: option.boolean('case_sensitive'),
        secondaryKeys: splitKeys(interaction.options.getString('secondary_keys') ?? ''),
        priority: option.integer('priority'),
      });
      await interaction.reply({
        content: `Added ${describe(item, character.name)} Its keywords work at once; it is embedded for recall in the background.`,
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (sub === 'list') {
      await interaction.reply({
        ...loreListPage(character.id, character.name, await listLore(em, character), 0),
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const row = await findLore(em, character, interaction.options.getString('entry', true));
    if (sub === 'remove') {
      const removed = await removeLore(em, actor, character, row.id);
      await interaction.reply({
        content: `**${character.name}** no longer has the lore entry **${removed.name}**.`,
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    assertCanChangeKnowledge(actor, character);
    const flags: LorePatch = {
      constant: option.boolean('constant'),
      useRegex: option.boolean('regex'),
      caseSensitive: option.boolean('case_sensitive'),
      enabled: option.boolean('enabled'),
      priority: option.integer('priority'),
    };
    const changed = Object.values(flags).some((value) => value !== undefined);
    const current = changed ? { ...row, ...(await editLore(em, context.queue, actor, character, row.id, flags)) } : row;
    await interaction.showModal(loreModal(character.id, current));
  },

  async interact(interaction, context) {
    const { action, args } = parseCustomId(interaction.customId);
    const [characterId = '', second = ''] = args;
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    const character = await findUsableCharacter(em, actor, characterId);
    if (interaction.isButton() && action === 'page') {
      await interaction.update(loreListPage(character.id, character.name, await listLore(em, character), Number(second) || 0));
      return;
    }
    if (!interaction.isModalSubmit() || action !== 'save') return;
    assertCan(actor, 'uploadKnowledge', await accessFor(em, actor));
    const value = (id: string) => interaction.fields.getTextInputValue(id).trim();
    // A field the form could not show was left empty: empty there means "unchanged", never "cut" or "cleared".
    const current = await findLore(em, character, second);
    const out = loreFormLeavesOut(current);
    const content = [value('content'), value('content2')].filter(Boolean).join('\n');
    const keys = linesOf(value('keys'));
    const secondaryKeys = linesOf(value('secondary'));
    const keepSecondary = out.secondaryKeys && secondaryKeys.length === 0;
    const item = await editLore(em, context.queue, actor, character, second, {
      name: value('name'),
      ...(out.keys && keys.length === 0 ? {} : { keys }),
      ...(keepSecondary ? {} : { secondaryKeys, selective: secondaryKeys.length > 0 }),
      ...((out.content || !current.entry.content.trim()) && !content ? {} : { content }),
    });
    await interaction.reply({ content: `Saved ${describe(item, character.name)}`, flags: MessageFlags.Ephemeral });
  },

  async autocomplete(interaction: AutocompleteInteraction, context: CommandContext) {
    const focused = interaction.options.getFocused(true);
    if (focused.name === 'character') return autocompleteCharacters(interaction, context);
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    const character = await findUsableCharacter(em, actor, interaction.options.getString('character') ?? '').catch((error: unknown) => {
      if (error instanceof UserError) return undefined;
      throw error;
    });
    if (!character) return void (await interaction.respond([]));
    const typed = focused.value.toLowerCase().trim();
    const matches = (await listLore(em, character)).filter(
      (row) => row.name.toLowerCase().includes(typed) || row.entry.keys.some((key) => key.toLowerCase().includes(typed)),
    );
    await interaction.respond(
      matches.slice(0, 25).map((row) => ({ name: clip(`${row.name} — ${row.entry.keys.join(', ') || 'always'}`, 100), value: row.id })),
    );
  },
} satisfies Command;

function describe(item: LoreItem, characterName: string): string {
  const keys = item.entry.constant ? 'always included' : `keys: ${clip(item.entry.keys.join(', '), 300)}`;
  return `the lore entry **${clip(item.name, 200)}** of **${characterName}** (${keys}).`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
