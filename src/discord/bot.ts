import {
  Client,
  Events,
  GatewayIntentBits,
  Partials,
  type Interaction,
  type MessageComponentInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import type { Deps } from '../deps.js';
import { UserError } from '../errors.js';
import { parseCustomId, type Command, type CommandContext } from './command.js';
import { refuseIfClosed } from './gate.js';
import { handleInteractionError } from './handle-error.js';
import { routeMessages } from './messages.js';
import { replySinks } from './reply-sinks.js';
import { startReplyWorkers } from './reply-worker.js';
import { replyButtons } from './render/reply-buttons.js';
import { AttachmentUrls, publicAvatarsOf } from './attachment-urls.js';
import { WebhookCache } from './webhooks.js';

export interface BotOptions {
  token: string;
  /** Base URL of Discord's REST API; set only to talk to a proxy or a test server. */
  apiUrl?: string;
  commands: Map<string, Command>;
  deps: Deps;
}

/**
 * The Discord gateway client: the only place the bot listens to Discord.
 * Slash commands, buttons and modals go to commands/; messages in bound
 * channels go to the responder.
 */
export async function startBot(options: BotOptions): Promise<Client> {
  const { deps } = options;
  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
      // A ❌ on a message someone wrote as a persona deletes it.
      GatewayIntentBits.GuildMessageReactions,
    ],
    partials: [Partials.Channel, Partials.Message, Partials.Reaction, Partials.User],
    rest: options.apiUrl ? { api: options.apiUrl } : {},
  });
  const webhooks = new WebhookCache({
    rest: client.rest,
    applicationId: () => client.application?.id,
    logger: deps.logger,
    locks: deps.locks,
  });
  const attachmentUrls = new AttachmentUrls({ rest: client.rest, logger: deps.logger, publicAvatars: publicAvatarsOf(deps.config) });
  const context: CommandContext = { ...deps, rest: client.rest, webhooks, attachmentUrls, replyButtons };
  client.once(Events.ClientReady, (ready) => {
    deps.logger.info({ user: ready.user.tag, guilds: ready.guilds.cache.size }, 'connected to Discord');
    // Reply jobs (when replies go through the queue) are taken once the application id is known, for the webhooks.
    if (deps.config.repliesInQueue) startReplyWorkers(deps, context);
    // Scene rounds cut short by a restart carry on with their stored speaker queue.
    void deps.scenes
      .resumeRounds(
        (threadId, parentId) => replySinks(context, { id: threadId, kind: 'thread', parentId }),
        (guildId) => guildId !== undefined && ready.guilds.cache.has(guildId),
      )
      .then((resumed) => resumed && deps.logger.info({ resumed }, 'scene rounds resumed'))
      .catch((error: unknown) => deps.logger.error({ err: error }, 'could not resume scene rounds'));
  });
  client.on(Events.Error, (error) => deps.logger.error({ err: error }, 'Discord client error'));
  client.on(Events.InteractionCreate, (interaction) => {
    void dispatch(interaction, options.commands, context);
  });
  routeMessages({ client, context });
  await client.login(options.token);
  return client;
}

async function dispatch(interaction: Interaction, commands: Map<string, Command>, context: CommandContext): Promise<void> {
  if (interaction.isMessageComponent() || interaction.isModalSubmit()) {
    await dispatchComponent(interaction, commands, context);
    return;
  }
  if (!interaction.isChatInputCommand() && !interaction.isAutocomplete() && !interaction.isMessageContextMenuCommand()) return;
  const logger = context.logger.child({
    interaction: interaction.id,
    command: interaction.commandName,
    user: interaction.user.id,
    guild: interaction.guildId ?? 'dm',
  });
  const command = commands.get(interaction.commandName);
  if (!command) {
    logger.warn('unknown command (run npm run deploy-commands after changing commands)');
    return;
  }
  try {
    if (await refuseIfClosed(interaction, interaction.commandName, context)) return;
  } catch (error) {
    if (!interaction.isAutocomplete()) await handleInteractionError(interaction, error, logger);
    return;
  }
  if (interaction.isAutocomplete()) {
    await command.autocomplete?.(interaction, { ...context, logger }).catch((error: unknown) => {
      logger.warn({ err: error }, 'autocomplete failed');
    });
    return;
  }
  try {
    if (interaction.isMessageContextMenuCommand()) await command.executeOnMessage?.(interaction, { ...context, logger });
    else await command.execute?.(interaction, { ...context, logger });
  } catch (error) {
    await handleInteractionError(interaction, error, logger);
  }
}

async function dispatchComponent(
  interaction: MessageComponentInteraction | ModalSubmitInteraction,
  commands: Map<string, Command>,
  context: CommandContext,
): Promise<void> {
  const { command: name, action } = parseCustomId(interaction.customId);
  const logger = context.logger.child({
    interaction: interaction.id,
    command: name,
    action,
    user: interaction.user.id,
    guild: interaction.guildId ?? 'dm',
  });
  const command = commands.get(name);
  try {
    if (!command?.interact) {
      logger.warn({ customId: interaction.customId }, 'no handler for this component');
      throw new UserError(OUT_OF_DATE);
    }
    if (await refuseIfClosed(interaction, name, context)) return;
    await command.interact(interaction, { ...context, logger });
    // A button or form the handler does not know (an old message, a crafted id): say so rather than leave Discord's "interaction failed".
    if (!interaction.replied && !interaction.deferred) throw new UserError(OUT_OF_DATE);
  } catch (error) {
    await handleInteractionError(interaction, error, logger);
  }
}

const OUT_OF_DATE = 'This button or form is out of date. Run the command again.';
