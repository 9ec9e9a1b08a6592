import { InteractionContextType, MessageFlags, SlashCommandBuilder, type ModalSubmitInteraction } from 'discord.js';
import {
  canEdit,
  createCharacter,
  deleteCharacter,
  findUsableCharacter,
  searchCharacters,
  updateCharacter,
} from '../src/characters/characters.js';
import type { CharacterPatch } from '../src/characters/character-input.js';
import { actorOf } from '../src/discord/actor.js';
import { autocompleteCharacters } from '../src/discord/character-options.js';
import { customId, parseCustomId, type Command, type CommandContext } from '../src/discord/command.js';
import { characterEmbed, characterListPage, characterModal, tooLongForForm } from '../src/discord/render/characters.js';
import { CARD_LIMITS } from '../src/cards/card-limits.js';
import { exportCardJson, exportCardPng } from '../src/cards/export-card.js';
import { isPng, parseCard } from '../src/cards/parse-card.js';
import { loadAvatar, removeAvatar, saveAvatar } from '../src/characters/avatars.js';
import { cardHash, cardOf, importCard, type ImportedCard } from '../src/characters/import-card.js';
import { UserError } from '../src/errors.js';
import { download } from '../src/knowledge/download.js';
import { guardedFetch } from '../src/llm/endpoint-guard.js';
import type { CHARACTER_VISIBILITIES } from '../src/db/entities/index.js';
import { assertCan } from '../src/permissions/access.js';
import { accessFor } from '../src/permissions/guild-settings.js';

const PAGE_SIZE = 5;
type Visibility = (typeof CHARACTER_VISIBILITIES)[number];

const visibilityChoices = [
  { name: 'private (only me)', value: 'private' },
  { name: 'this server', value: 'guild' },
  { name: 'public (everyone, everywhere)', value: 'public' },
];

export default {
  data: new SlashCommandBuilder()
    .setName('character')
    .setDescription('Create and manage characters.')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .addSubcommand((sub) =>
      sub
        .setName('create')
        .setDescription('Create a character (a form opens).')
        .addStringOption((o) =>
          o
            .setName('visibility')
            .setDescription('Who may use it (default: only you)')
            .addChoices(...visibilityChoices),
        )
        .addBooleanOption((o) => o.setName('nsfw').setDescription('For age-restricted channels only')),
    )
    .addSubcommand((sub) =>
      sub
        .setName('edit')
        .setDescription('Change a character: give settings here, or none to edit its text in a form.')
        .addStringOption((o) => o.setName('character').setDescription('Which one').setRequired(true).setAutocomplete(true))
        .addStringOption((o) =>
          o
            .setName('visibility')
            .setDescription('Who may use it')
            .addChoices(...visibilityChoices),
        )
        .addStringOption((o) => o.setName('model').setDescription('Model name, e.g. gpt-4o-mini (empty: server default)'))
        .addNumberOption((o) => o.setName('temperature').setDescription('0 = focused, 2 = wild').setMinValue(0).setMaxValue(2))
        .addIntegerOption((o) => o.setName('max_tokens').setDescription('Longest reply, in tokens').setMinValue(16).setMaxValue(32000))
        .addIntegerOption((o) =>
          o
            .setName('context')
            .setDescription('Context size in tokens its prompts are built for (0: the provider’s)')
            .setMinValue(0)
            .setMaxValue(10_000_000),
        )
        .addBooleanOption((o) => o.setName('memory').setDescription('Remember past conversations and knowledge'))
        .addNumberOption((o) =>
          o.setName('talkativeness').setDescription('In scenes: how often it speaks up unprompted, 0–1').setMinValue(0).setMaxValue(1),
        )
        .addBooleanOption((o) => o.setName('images').setDescription('Send pictures to its model (default: only to known vision models)'))
        .addStringOption((o) =>
          o
            .setName('shared_memory')
            .setDescription('Whether it recalls its other conversations with the same person')
            .addChoices(
              { name: 'no: each conversation on its own', value: 'off' },
              { name: 'within the same server (default)', value: 'server' },
              { name: 'everywhere, DMs included', value: 'everywhere' },
            ),
        )
        .addBooleanOption((o) => o.setName('nsfw').setDescription('For age-restricted channels only')),
    )
    .addSubcommand((sub) =>
      sub
        .setName('show')
        .setDescription('Show a character’s card.')
        .addStringOption((o) => o.setName('character').setDescription('Which one').setRequired(true).setAutocomplete(true)),
    )
    .addSubcommand((sub) =>
      sub
        .setName('list')
        .setDescription('The characters you can use here.')
        .addStringOption((o) => o.setName('search').setDescription('Part of a name')),
    )
    .addSubcommand((sub) =>
      sub
        .setName('import')
        .setDescription('Import a character card (Character Card V2/V3, PNG or JSON).')
        .addAttachmentOption((o) => o.setName('file').setDescription('The card').setRequired(true))
        .addStringOption((o) =>
          o
            .setName('visibility')
            .setDescription('Who may use it (default: only you)')
            .addChoices(...visibilityChoices),
        ),
    )
    .addSubcommand((sub) =>
      sub
        .setName('export')
        .setDescription('Download a character as a PNG card (SillyTavern and others import it).')
        .addStringOption((o) => o.setName('character').setDescription('Which one').setRequired(true).setAutocomplete(true)),
    )
    .addSubcommand((sub) =>
      sub
        .setName('delete')
        .setDescription('Delete a character with its knowledge and memories.')
        .addStringOption((o) => o.setName('character').setDescription('Which one').setRequired(true).setAutocomplete(true)),
    ),

  async execute(interaction, context) {
    const em = context.database.orm.em.fork();
    const sub = interaction.options.getSubcommand();
    if (sub === 'create') {
      const creator = await actorOf(em, interaction);
      assertCan(creator, 'createCharacters', await accessFor(em, creator));
      const visibility = interaction.options.getString('visibility') ?? 'private';
      const nsfw = interaction.options.getBoolean('nsfw') ?? false;
      await interaction.showModal(characterModal(customId('character', 'create', visibility, String(nsfw)), 'New character'));
      return;
    }
    if (sub === 'import') {
      const actor = await actorOf(em, interaction);
      assertCan(actor, 'createCharacters', await accessFor(em, actor));
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const file = interaction.options.getAttachment('file', true);
      const fetcher = guardedFetch({ allowPrivate: context.config.secrets.allowPrivateEndpoints });
      const buffer = await download(file.url, { maxBytes: CARD_LIMITS.fileBytes, timeoutMs: 30_000 }, fetcher);
      const card = await parseCard(buffer);
      const imported = await importCard(em, context.queue, actor, card, {
        visibility: (interaction.options.getString('visibility') ?? 'private') as Visibility,
        avatarUrl: card.avatar ? file.url : undefined,
        fileHash: cardHash(buffer),
      });
      if (card.avatar && isPng(card.avatar)) await saveAvatar(context.config.database.dataDir, imported.character.id, card.avatar);
      await interaction.editReply({ content: importReply(imported), embeds: [characterEmbed(imported.character)] });
      return;
    }
    if (sub === 'list') {
      await interaction.reply({
        ...(await listPage(context, interaction, 0, interaction.options.getString('search') ?? '')),
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const actor = await actorOf(em, interaction);
    const character = await findUsableCharacter(em, actor, interaction.options.getString('character', true));
    if (sub === 'show') {
      await interaction.reply({
        embeds: [characterEmbed(character, await context.attachmentUrls.forCharacter(character.id, character.avatarUrl))],
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (sub === 'export') {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const fetcher = guardedFetch({ allowPrivate: context.config.secrets.allowPrivateEndpoints });
      const stored = await loadAvatar(context.config.database.dataDir, character.id);
      const avatarUrl = stored ? undefined : await context.attachmentUrls.usable(character.avatarUrl);
      const avatar =
        stored ??
        (avatarUrl
          ? await download(avatarUrl, { maxBytes: CARD_LIMITS.fileBytes, timeoutMs: 15_000 }, fetcher).catch(() => undefined)
          : undefined);
      const png = exportCardPng(exportCardJson(await cardOf(em, character)), avatar && isPng(avatar) ? avatar : undefined);
      await interaction.editReply({
        content: `**${character.name}** as a character card (V2 and V3 in one PNG).`,
        files: [{ attachment: png, name: `${character.name.replace(/[^\w.-]+/g, '_')}.png` }],
      });
      return;
    }
    if (sub === 'delete') {
      await deleteCharacter(em, actor, character);
      await removeAvatar(context.config.database.dataDir, character.id);
      await interaction.reply({
        content: `**${character.name}** is deleted, with its knowledge and memories.`,
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const patch = settingsPatch(interaction.options);
    if (!patch) {
      if (!canEdit(actor, character)) {
        throw new UserError(`Only the creator of ${character.name} (or a server admin, for server characters) can change it.`);
      }
      await interaction.showModal(
        characterModal(customId('character', 'edit', character.id), `Edit ${character.name}`.slice(0, 45), character),
      );
      return;
    }
    const updated = await updateCharacter(em, actor, character, patch);
    await interaction.reply({ content: `Saved.`, embeds: [characterEmbed(updated)], flags: MessageFlags.Ephemeral });
  },

  async interact(interaction, context) {
    const { action, args } = parseCustomId(interaction.customId);
    if (interaction.isButton() && action === 'page') {
      await interaction.update(await listPage(context, interaction, Math.max(0, Number(args[0]) || 0), args[1] ?? ''));
      return;
    }
    if (!interaction.isModalSubmit()) return;
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    const text = modalText(interaction);
    if (action === 'create') {
      assertCan(actor, 'createCharacters', await accessFor(em, actor));
      const character = await createCharacter(em, actor, {
        ...text,
        visibility: (args[0] as Visibility) ?? 'private',
        isNsfw: args[1] === 'true',
      });
      await interaction.reply({
        content: `**${character.name}** is ready. Bring them in with /chat start.`,
        embeds: [characterEmbed(character)],
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (action === 'edit') {
      const character = await findUsableCharacter(em, actor, args[0] ?? '');
      // A field the form could not show was left empty: empty there means "unchanged", never "cut" or "cleared".
      const kept = {
        personalityPrompt: tooLongForForm(character.personalityPrompt) && !text.personalityPrompt,
        greeting: tooLongForForm(character.greeting) && !text.greeting,
        exampleDialogue: tooLongForForm(character.exampleDialogue) && !text.exampleDialogue,
      };
      const patch = Object.fromEntries(Object.entries(text).filter(([key]) => !kept[key as keyof typeof kept]));
      const avatarBefore = character.avatarUrl ?? null;
      const updated = await updateCharacter(em, actor, character, patch);
      // Another picture was given: the stored one (from the card) no longer stands for the character.
      if ((updated.avatarUrl ?? null) !== avatarBefore) await removeAvatar(context.config.database.dataDir, updated.id);
      await interaction.reply({ content: 'Saved.', embeds: [characterEmbed(updated)], flags: MessageFlags.Ephemeral });
    }
  },

  autocomplete: autocompleteCharacters,
} satisfies Command;

async function listPage(context: CommandContext, interaction: Parameters<typeof actorOf>[1], offset: number, search: string) {
  const em = context.database.orm.em.fork();
  const actor = await actorOf(em, interaction);
  const { items, total } = await searchCharacters(em, actor, search, { limit: PAGE_SIZE, offset });
  return characterListPage({ items, total, offset, pageSize: PAGE_SIZE, search });
}

function modalText(interaction: ModalSubmitInteraction) {
  const value = (id: string) => interaction.fields.getTextInputValue(id).trim();
  return {
    name: value('name'),
    personalityPrompt: value('personality'),
    greeting: value('greeting') || null,
    exampleDialogue: value('examples') || null,
    avatarUrl: value('avatar') || null,
  };
}

type Options = Parameters<NonNullable<Command['execute']>>[0]['options'];

/** The settings given as options, or null when none were (then the form opens). */
function settingsPatch(options: Options): CharacterPatch | null {
  const patch: CharacterPatch = {};
  const config: NonNullable<CharacterPatch['config']> = {};
  const visibility = options.getString('visibility');
  if (visibility) patch.visibility = visibility as Visibility;
  const nsfw = options.getBoolean('nsfw');
  if (nsfw !== null) patch.isNsfw = nsfw;
  const model = options.getString('model');
  if (model !== null) config.model = model.trim() || undefined;
  const temperature = options.getNumber('temperature');
  if (temperature !== null) config.temperature = temperature;
  const maxTokens = options.getInteger('max_tokens');
  if (maxTokens !== null) config.max_tokens = maxTokens;
  const context = options.getInteger('context');
  if (context !== null) config.context_window = context >= 512 ? context : undefined;
  const memory = options.getBoolean('memory');
  if (memory !== null) config.memory_enabled = memory;
  const talkativeness = options.getNumber('talkativeness');
  if (talkativeness !== null) config.talkativeness = talkativeness;
  const images = options.getBoolean('images');
  if (images !== null) config.vision = images;
  const shared = options.getString('shared_memory');
  if (shared === 'off' || shared === 'server' || shared === 'everywhere') config.shared_memory = shared;
  if (Object.keys(config).length) patch.config = config;
  return Object.keys(patch).length ? patch : null;
}

/** The import reply: what was made, and anything of the card that was not kept. */
function importReply({ character, loreEntries, notes }: ImportedCard): string {
  const lore = loreEntries ? `, with ${loreEntries} lore entries (see /lore list)` : '';
  const left = notes.length ? `\nNot kept: ${notes.join('; ')}.` : '';
  return `Imported **${character.name}**${lore}.${left}`.slice(0, 2000);
}
