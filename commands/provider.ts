import {
  ActionRowBuilder,
  EmbedBuilder,
  InteractionContextType,
  MessageFlags,
  ModalBuilder,
  SlashCommandBuilder,
  TextInputBuilder,
  TextInputStyle,
  type AutocompleteInteraction,
} from 'discord.js';
import { actorOf } from '../src/discord/actor.js';
import { customId, parseCustomId, type Command, type CommandContext } from '../src/discord/command.js';
import { DEFAULT_MODELS } from '../src/llm/models.js';
import { ProviderError } from '../src/llm/errors.js';
import {
  addInstance,
  findUsableInstance,
  removeInstance,
  setDefaultInstance,
  setInstanceModel,
  setInstanceVision,
  usableInstances,
  viewInstance,
  type ProviderScope,
} from '../src/llm/instances.js';
import { ModelListCache, roundTrip } from '../src/llm/provider-test.js';
import type { ProviderConfig } from '../src/llm/create-provider.js';
import type { ProviderType } from '../src/llm/types.js';
import { assertCan } from '../src/permissions/access.js';
import { accessFor } from '../src/permissions/guild-settings.js';
import { setServerCaptioner } from '../src/images/captioner.js';

const modelLists = new ModelListCache();
const SCOPE_LABEL: Record<ProviderScope, string> = { user: 'yours', guild: 'this server', system: 'operator' };

const providerOption =
  (name = 'provider') =>
  (o: import('discord.js').SlashCommandStringOption) =>
    o.setName(name).setDescription('Which provider').setRequired(true).setAutocomplete(true);

export default {
  data: new SlashCommandBuilder()
    .setName('provider')
    .setDescription('The AI providers that answer: add your own key, or (admins) the server’s.')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .addSubcommand((sub) =>
      sub
        .setName('add')
        .setDescription('Add a provider (a private form asks for the endpoint and key).')
        .addStringOption((o) =>
          o
            .setName('type')
            .setDescription('Which kind of server')
            .setRequired(true)
            .addChoices(
              { name: 'OpenAI', value: 'openai' },
              { name: 'OpenAI-compatible (OpenRouter, LM Studio, vLLM, Groq…)', value: 'openai-compatible' },
              { name: 'Anthropic Claude', value: 'anthropic' },
              { name: 'Ollama', value: 'ollama' },
            ),
        )
        .addStringOption((o) =>
          o
            .setName('scope')
            .setDescription('For you only (default), or for this whole server (Manage Server)')
            .addChoices(
              { name: 'me', value: 'user' },
              { name: 'this server', value: 'guild' },
              { name: 'everyone (operator only)', value: 'system' },
            ),
        ),
    )
    .addSubcommand((sub) => sub.setName('list').setDescription('The providers you can use here.'))
    .addSubcommand((sub) =>
      sub.setName('default').setDescription('Make a provider the default of its scope.').addStringOption(providerOption()),
    )
    .addSubcommand((sub) => sub.setName('test').setDescription('A real round trip, with its latency.').addStringOption(providerOption()))
    .addSubcommand((sub) =>
      sub
        .setName('models')
        .setDescription('Pick the model a provider uses by default.')
        .addStringOption(providerOption())
        .addStringOption((o) => o.setName('model').setDescription('Model').setRequired(true).setAutocomplete(true))
        .addIntegerOption((o) =>
          o
            .setName('context')
            .setDescription('Context size in tokens, when the model’s is not known (0: forget it)')
            .setMinValue(0)
            .setMaxValue(10_000_000),
        ),
    )
    .addSubcommand((sub) =>
      sub.setName('remove').setDescription('Delete a provider (and its stored key).').addStringOption(providerOption()),
    )
    .addSubcommand((sub) =>
      sub
        .setName('images')
        .setDescription('Whether this provider’s models are sent the pictures people post.')
        .addStringOption(providerOption())
        .addStringOption((o) =>
          o
            .setName('send')
            .setDescription('Send pictures to its models?')
            .setRequired(true)
            .addChoices(
              { name: 'only to known vision models (default)', value: 'auto' },
              { name: 'yes: its models see images', value: 'yes' },
              { name: 'no: they get captions', value: 'no' },
            ),
        ),
    )
    .addSubcommand((sub) =>
      sub
        .setName('captioner')
        .setDescription('(Admins) Who describes pictures for models without vision and for memory. No provider: none.')
        .addStringOption((o) =>
          o.setName('provider').setDescription('A vision-capable provider of this server or the operator').setAutocomplete(true),
        )
        .addStringOption((o) =>
          o.setName('model').setDescription('Its vision model (default: the provider’s model)').setAutocomplete(true),
        ),
    ),

  async execute(interaction, context) {
    const sub = interaction.options.getSubcommand();
    if (sub === 'add') {
      const type = interaction.options.getString('type', true) as ProviderType;
      const scope = (interaction.options.getString('scope') ?? 'user') as ProviderScope;
      if (scope === 'guild') {
        const em = context.database.orm.em.fork();
        const actor = await actorOf(em, interaction);
        if (actor.guild) assertCan(actor, 'addProviders', await accessFor(em, actor));
      }
      await interaction.showModal(addModal(type, scope));
      return;
    }
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    if (sub === 'list') {
      const views = (await usableInstances(em, actor)).map((instance) => viewInstance(instance, context.secrets));
      const embed = new EmbedBuilder()
        .setTitle('AI providers you can use here')
        .setDescription(
          views
            .map(
              (v) =>
                `${v.isDefault ? '⭐ ' : ''}**${v.name}** · ${v.type} · ${SCOPE_LABEL[v.scope]}${v.isEnabled ? '' : ' · disabled'}\n` +
                `model: ${v.model ?? DEFAULT_MODELS[v.type]}${v.contextWindow ? ` · context ${v.contextWindow.toLocaleString('en')}` : ''}${v.baseUrl ? ` · ${v.baseUrl}` : ''}${v.maskedKey ? ` · key ${v.maskedKey}` : ''}`,
            )
            .join('\n\n') || 'None yet. Add one with /provider add.',
        )
        .setFooter({ text: 'Order used: your default → this server’s default → the operator’s.' });
      await interaction.reply({ embeds: [embed], flags: MessageFlags.Ephemeral });
      return;
    }
    if (sub === 'captioner') {
      const chosen = interaction.options.getString('provider');
      const instance = chosen ? await findUsableInstance(em, actor, chosen) : undefined;
      const set = await setServerCaptioner(em, actor, instance, interaction.options.getString('model') ?? undefined);
      await interaction.reply({
        content: set
          ? `Pictures are now described by **${instance!.displayName}** (${set.model ?? (instance!.config as ProviderConfig).model ?? DEFAULT_MODELS[instance!.providerType as ProviderType]}) for models without vision and for memory.`
          : 'This server has no captioner of its own now: the operator’s is used if there is one, else a character’s own vision model, else pictures are only mentioned.',
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const instance = await findUsableInstance(em, actor, interaction.options.getString('provider', true));
    if (sub === 'images') {
      const send = interaction.options.getString('send', true);
      await setInstanceVision(em, actor, instance.id, send === 'auto' ? undefined : send === 'yes');
      const said = { auto: 'only to models known to take images', yes: 'to every model', no: 'to none of its models (they get captions)' }[
        send
      ];
      await interaction.reply({ content: `**${instance.displayName}** is now sent pictures ${said}.`, flags: MessageFlags.Ephemeral });
      return;
    }
    if (sub === 'default') {
      await setDefaultInstance(em, actor, instance.id);
      await interaction.reply({
        content: `**${instance.displayName}** is now the default (${SCOPE_LABEL[instance.scope]}).`,
        flags: MessageFlags.Ephemeral,
      });
    } else if (sub === 'remove') {
      await removeInstance(em, actor, instance.id);
      await interaction.reply({ content: `**${instance.displayName}** and its stored key are deleted.`, flags: MessageFlags.Ephemeral });
    } else if (sub === 'test') {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const model = (instance.config as ProviderConfig).model ?? DEFAULT_MODELS[instance.providerType as ProviderType];
      try {
        const result = await roundTrip(context.providers.providerFor(instance), model);
        await interaction.editReply(
          `✅ **${instance.displayName}** (${model}) answered “${result.text.trim().slice(0, 50)}”: first token in ${result.firstTokenMs} ms, done in ${result.totalMs} ms.`,
        );
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        await interaction.editReply(`❌ ${error.userMessage}`);
      }
    } else if (sub === 'models') {
      const model = interaction.options.getString('model', true);
      const contextWindow = interaction.options.getInteger('context') ?? undefined;
      const updated = await setInstanceModel(em, actor, instance.id, model, contextWindow);
      const size = (updated.config as ProviderConfig).contextWindow;
      await interaction.reply({
        content: `**${instance.displayName}** now uses **${model.trim()}** by default${size ? `, with a ${size.toLocaleString('en')}-token context` : ''}.`,
        flags: MessageFlags.Ephemeral,
      });
    }
  },

  async interact(interaction, context) {
    if (!interaction.isModalSubmit()) return;
    const { action, args } = parseCustomId(interaction.customId);
    if (action !== 'add') return;
    const [scope, type] = args as [ProviderScope, ProviderType];
    const value = (id: string) => interaction.fields.getTextInputValue(id).trim();
    const em = context.database.orm.em.fork();
    const member = await actorOf(em, interaction);
    // Server admins, and the roles they granted /settings roles allow action:add server AI providers.
    if (scope === 'guild' && member.guild) assertCan(member, 'addProviders', await accessFor(em, member));
    const actor = scope === 'guild' && member.guild ? { ...member, isGuildAdmin: true } : member;
    const instance = await addInstance(
      em,
      actor,
      {
        scope,
        type,
        name: value('name'),
        baseUrl: value('endpoint') || undefined,
        apiKey: value('key') || undefined,
        model: value('model') || undefined,
      },
      { secrets: context.secrets, allowPrivateEndpoints: context.config.secrets.allowPrivateEndpoints },
    );
    const view = viewInstance(instance, context.secrets);
    await interaction.reply({
      content: `Added **${view.name}** (${SCOPE_LABEL[scope]}${view.isDefault ? ', default' : ''})${view.maskedKey ? ` with key ${view.maskedKey}` : ''}. Try it with /provider test.`,
      flags: MessageFlags.Ephemeral,
    });
  },

  async autocomplete(interaction: AutocompleteInteraction, context: CommandContext) {
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    const focused = interaction.options.getFocused(true);
    if (focused.name === 'provider') {
      const typed = focused.value.toLowerCase();
      const choices = (await usableInstances(em, actor))
        .filter((instance) => instance.displayName.toLowerCase().includes(typed))
        .slice(0, 25)
        .map((instance) => ({ name: `${instance.displayName} (${SCOPE_LABEL[instance.scope]})`.slice(0, 100), value: instance.id }));
      await interaction.respond(choices);
      return;
    }
    const instance = await findUsableInstance(em, actor, interaction.options.getString('provider') ?? '');
    const models = await modelLists.get(`${instance.id}:${instance.updatedAt.getTime()}`, async () =>
      (await context.providers.providerFor(instance).listModels()).map((model) => model.id),
    );
    const typed = focused.value.toLowerCase();
    await interaction.respond(
      models
        .filter((id) => id.toLowerCase().includes(typed))
        .slice(0, 25)
        .map((id) => ({ name: id.slice(0, 100), value: id.slice(0, 100) })),
    );
  },
} satisfies Command;

function addModal(type: ProviderType, scope: ProviderScope): ModalBuilder {
  const input = (id: string, label: string, required: boolean, placeholder?: string) => {
    const field = new TextInputBuilder()
      .setCustomId(id)
      .setLabel(label)
      .setStyle(TextInputStyle.Short)
      .setRequired(required)
      .setMaxLength(500);
    if (placeholder) field.setPlaceholder(placeholder);
    return new ActionRowBuilder<TextInputBuilder>().addComponents(field);
  };
  const endpointHint = {
    openai: 'https://api.openai.com/v1 (leave empty)',
    'openai-compatible': 'https://openrouter.ai/api/v1',
    anthropic: 'leave empty',
    ollama: 'http://my-ollama:11434',
  }[type];
  return new ModalBuilder()
    .setCustomId(customId('provider', 'add', scope, type))
    .setTitle(`Add a provider (${SCOPE_LABEL[scope]})`)
    .addComponents(
      input('name', 'Name', true, 'e.g. My OpenAI key'),
      input('endpoint', 'Endpoint URL', type === 'openai-compatible', endpointHint),
      input('key', 'API key (stored encrypted, never shown)', type === 'openai' || type === 'anthropic'),
      input('model', 'Default model (optional)', false, DEFAULT_MODELS[type]),
    );
}
