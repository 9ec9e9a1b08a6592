import { InteractionContextType, MessageFlags, SlashCommandBuilder, type ModalSubmitInteraction } from 'discord.js';
import type { PersonaScope } from '../src/db/entities/index.js';
import { actorOf } from '../src/discord/actor.js';
import { customId, parseCustomId, type Command, type CommandContext } from '../src/discord/command.js';
import { autocompletePersonas, NO_PERSONA } from '../src/discord/persona-options.js';
import { personaEmbed, personaListPage, whereText } from '../src/discord/render/personas.js';
import { personaModal } from '../src/discord/render/personas.js';
import { UserError } from '../src/errors.js';
import { download } from '../src/knowledge/download.js';
import { guardedFetch } from '../src/llm/endpoint-guard.js';
import { choicesOf, personaContext, setAutoproxy, usePersona } from '../src/personas/choices.js';
import { importPersonas, parsePersonaFile } from '../src/personas/import-personas.js';
import { createPersona, deletePersona, findPersona, searchPersonas, updatePersona } from '../src/personas/personas.js';
import { parseProxyTags } from '../src/personas/proxy-tags.js';

const PAGE_SIZE = 5;
const IMPORT_BYTES = 8 * 1024 * 1024;

const personaOption =
  (required = true) =>
  (o: import('discord.js').SlashCommandStringOption) =>
    o.setName('persona').setDescription('Which one').setRequired(required).setAutocomplete(true);

export default {
  data: new SlashCommandBuilder()
    .setName('persona')
    .setDescription('Play your own characters: who the AI characters talk to, and speaking as them.')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .addSubcommand((sub) =>
      sub
        .setName('create')
        .setDescription('Create a persona (a form opens).')
        .addBooleanOption((o) => o.setName('nsfw').setDescription('Worn only where NSFW characters may run')),
    )
    .addSubcommand((sub) =>
      sub
        .setName('edit')
        .setDescription('Change a persona in a form.')
        .addStringOption(personaOption())
        .addBooleanOption((o) => o.setName('nsfw').setDescription('Worn only where NSFW characters may run')),
    )
    .addSubcommand((sub) =>
      sub.setName('show').setDescription('Show a persona, or the one you wear here.').addStringOption(personaOption(false)),
    )
    .addSubcommand((sub) => sub.setName('list').setDescription('Your personas.'))
    .addSubcommand((sub) => sub.setName('delete').setDescription('Delete a persona.').addStringOption(personaOption()))
    .addSubcommand((sub) =>
      sub
        .setName('use')
        .setDescription('Wear a persona (or none): the most specific choice wins.')
        .addStringOption((o) =>
          o.setName('persona').setDescription('Which one, or “none” to be plain you').setRequired(true).setAutocomplete(true),
        )
        .addStringOption((o) =>
          o
            .setName('where')
            .setDescription('Where (default: everywhere)')
            .addChoices(
              { name: 'everywhere', value: 'everywhere' },
              { name: 'this server', value: 'server' },
              { name: 'this channel', value: 'channel' },
            ),
        ),
    )
    .addSubcommand((sub) =>
      sub
        .setName('autoproxy')
        .setDescription('Repost everything you write in this channel or scene as a persona.')
        .addBooleanOption((o) => o.setName('on').setDescription('On or off').setRequired(true))
        .addStringOption(personaOption(false)),
    )
    .addSubcommand((sub) =>
      sub
        .setName('import')
        .setDescription('Import personas: SillyTavern backup or settings.json, Tupperbox or PluralKit export.')
        .addAttachmentOption((o) => o.setName('file').setDescription('The JSON file').setRequired(true)),
    ),

  async execute(interaction, context) {
    const em = context.database.orm.em.fork();
    const sub = interaction.options.getSubcommand();
    const { user } = await actorOf(em, interaction);
    if (sub === 'create') {
      const nsfw = interaction.options.getBoolean('nsfw') ?? false;
      await interaction.showModal(personaModal(customId('persona', 'create', String(nsfw)), 'New persona'));
      return;
    }
    if (sub === 'list') {
      await interaction.reply({ ...(await listPage(context, interaction, 0)), flags: MessageFlags.Ephemeral });
      return;
    }
    if (sub === 'import') {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const file = interaction.options.getAttachment('file', true);
      const fetcher = guardedFetch({ allowPrivate: context.config.secrets.allowPrivateEndpoints });
      const buffer = await download(file.url, { maxBytes: IMPORT_BYTES, timeoutMs: 30_000 }, fetcher);
      const { format, personas } = parsePersonaFile(buffer.toString('utf8'));
      const { created, skipped, shortened } = await importPersonas(em, user, personas);
      const lines = [
        `Imported ${created.length} persona(s) from ${FORMAT_NAMES[format]}${created.length ? `: ${created.map((p) => `**${p.name}**`).join(', ')}` : ''}.`,
        ...shortened.map((name) => `✂️ ${name}: description cut to 4000 characters.`),
        ...skipped.map((s) => `❌ ${s.name}: ${s.reason}`),
      ];
      await interaction.editReply({ content: clipLines(lines) });
      return;
    }
    if (sub === 'use') {
      const where = (interaction.options.getString('where') ?? 'everywhere') as PersonaScope;
      const key = interaction.options.getString('persona', true);
      const persona = key.trim().toLowerCase() === NO_PERSONA ? null : await findPersona(em, user, key);
      const placeId = placeFor(interaction, where);
      await usePersona(em, user, persona, where, placeId);
      const place = whereText(where, placeId);
      await interaction.reply({
        content: persona ? `You are **${persona.name}** ${place} now.` : `You are plain you ${place} now.`,
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (sub === 'autoproxy') {
      const on = interaction.options.getBoolean('on', true);
      const key = interaction.options.getString('persona');
      const persona = key
        ? await findPersona(em, user, key)
        : on
          ? (
              await personaContext(em, interaction.user.id, {
                channelIds: [interaction.channelId],
                guildId: interaction.guildId ?? undefined,
                nsfwAllowed: true,
              })
            ).active
          : undefined;
      await setAutoproxy(em, user, interaction.channelId, on, persona);
      await interaction.reply({
        content: on
          ? `Everything you write in <#${interaction.channelId}> is now reposted as **${persona!.name}**. Turn it off with /persona autoproxy on:False.`
          : `Autoproxy is off in <#${interaction.channelId}>: your messages stay as you write them.`,
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const key = interaction.options.getString('persona');
    if (sub === 'show' && !key) {
      const worn = await wornHere(context, interaction);
      if (!worn) throw new UserError('You wear no persona here. Pick one with /persona use.');
      await interaction.reply({
        embeds: [personaEmbed(worn, await wornIn(context, interaction, worn.id), await context.attachmentUrls.usable(worn.avatarUrl))],
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const persona = await findPersona(em, user, key ?? '');
    if (sub === 'show') {
      await interaction.reply({
        embeds: [
          personaEmbed(persona, await wornIn(context, interaction, persona.id), await context.attachmentUrls.usable(persona.avatarUrl)),
        ],
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (sub === 'delete') {
      await deletePersona(em, user, persona);
      await interaction.reply({
        content: `**${persona.name}** is deleted. Messages you wrote as it keep its name.`,
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const nsfw = interaction.options.getBoolean('nsfw');
    if (nsfw !== null) {
      const updated = await updatePersona(em, user, persona, { isNsfw: nsfw });
      await interaction.reply({ content: 'Saved.', embeds: [personaEmbed(updated)], flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.showModal(personaModal(customId('persona', 'edit', persona.id), `Edit ${persona.name}`.slice(0, 45), persona));
  },

  async interact(interaction, context) {
    const { action, args } = parseCustomId(interaction.customId);
    if (interaction.isButton() && action === 'page') {
      await interaction.update(await listPage(context, interaction, Math.max(0, Number(args[0]) || 0)));
      return;
    }
    if (!interaction.isModalSubmit()) return;
    const em = context.database.orm.em.fork();
    const { user } = await actorOf(em, interaction);
    const input = formInput(interaction);
    if (action === 'create') {
      const persona = await createPersona(em, user, { ...input, isNsfw: args[0] === 'true' });
      await interaction.reply({
        content: `**${persona.name}** is ready. Wear it with /persona use${persona.proxyTags.length ? ', or speak as it with its proxy tags' : ''}.`,
        embeds: [personaEmbed(persona)],
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (action === 'edit') {
      const persona = await findPersona(em, user, args[0] ?? '');
      const updated = await updatePersona(em, user, persona, input);
      await interaction.reply({ content: 'Saved.', embeds: [personaEmbed(updated)], flags: MessageFlags.Ephemeral });
    }
  },

  autocomplete: autocompletePersonas,
} satisfies Command;

const FORMAT_NAMES = { sillytavern: 'SillyTavern', tupperbox: 'Tupperbox', pluralkit: 'PluralKit' } as const;

type AnyInteraction = Parameters<typeof actorOf>[1];

/** The place id a choice is kept under: the server's or the channel's (a thread's own) id. */
function placeFor(interaction: AnyInteraction, where: PersonaScope): string {
  if (where === 'everywhere') return '';
  if (where === 'server') {
    if (!interaction.guildId) throw new UserError('“this server” only works in a server. Here, choose everywhere or this channel.');
    return interaction.guildId;
  }
  return interaction.channelId!;
}

async function wornHere(context: CommandContext, interaction: AnyInteraction) {
  const channel = interaction.channel;
  const channelIds = [interaction.channelId!, ...(channel?.isThread() && channel.parentId ? [channel.parentId] : [])];
  const em = context.database.orm.em.fork();
  const found = await personaContext(em, interaction.user.id, { channelIds, guildId: interaction.guildId ?? undefined, nsfwAllowed: true });
  return found.active;
}

async function wornIn(context: CommandContext, interaction: AnyInteraction, personaId: string): Promise<string[]> {
  const em = context.database.orm.em.fork();
  const { user } = await actorOf(em, interaction);
  const choices = await choicesOf(em, user);
  return choices
    .filter((choice) => choice.persona?.id === personaId)
    .map((choice) => `${whereText(choice.scope, choice.placeId)}${choice.autoproxy ? ' (autoproxy)' : ''}`);
}

async function listPage(context: CommandContext, interaction: AnyInteraction, offset: number) {
  const em = context.database.orm.em.fork();
  const { user } = await actorOf(em, interaction);
  const [{ items, total }, worn] = await Promise.all([
    searchPersonas(em, user, '', { limit: PAGE_SIZE, offset }),
    wornHere(context, interaction),
  ]);
  return personaListPage({ items, total, offset, pageSize: PAGE_SIZE, active: worn?.id });
}

function formInput(interaction: ModalSubmitInteraction) {
  const value = (id: string) => interaction.fields.getTextInputValue(id).trim();
  let proxyTags: ReturnType<typeof parseProxyTags>;
  try {
    proxyTags = parseProxyTags(value('tags'));
  } catch (error) {
    throw new UserError((error as Error).message);
  }
  return { name: value('name'), description: value('description'), avatarUrl: value('avatar') || null, proxyTags };
}

function clipLines(lines: string[]): string {
  let text = '';
  for (const line of lines) {
    if (text.length + line.length + 1 > 1900) return `${text}\n…`;
    text += `${text ? '\n' : ''}${line}`;
  }
  return text;
}
