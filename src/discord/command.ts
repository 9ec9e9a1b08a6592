import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  ContextMenuCommandBuilder,
  MessageContextMenuCommandInteraction,
  MessageComponentInteraction,
  ModalSubmitInteraction,
  SlashCommandBuilder,
  SlashCommandOptionsOnlyBuilder,
  SlashCommandSubcommandsOnlyBuilder,
} from 'discord.js';
import type { REST } from '@discordjs/rest';
import type { APIActionRowComponent, APIComponentInMessageActionRow } from 'discord.js';
import type { ReplyInfo } from '../chat/reply-sink.js';
import type { Deps } from '../deps.js';
import type { AttachmentUrls } from './attachment-urls.js';
import type { WebhookCache } from './webhooks.js';

/** What the Discord adapter adds to the process's dependencies. */
export interface DiscordContext {
  rest: REST;
  webhooks: WebhookCache;
  /** Avatar links that work now: Discord's signed attachment URLs are refreshed past their expiry. */
  attachmentUrls: AttachmentUrls;
  /** Buttons under a finished character reply. */
  replyButtons: (info: ReplyInfo) => APIActionRowComponent<APIComponentInMessageActionRow>[];
}

/** The context every handler gets: the dependencies and a logger for this interaction. */
export type CommandContext = Deps & DiscordContext;

/**
 * One file per command in commands/: `export default { data, execute } satisfies Command`.
 * Message context-menu commands ("Apps → …" on a message) set `data` to a
 * ContextMenuCommandBuilder and implement `executeOnMessage` instead.
 */
export interface Command {
  data: SlashCommandBuilder | SlashCommandOptionsOnlyBuilder | SlashCommandSubcommandsOnlyBuilder | ContextMenuCommandBuilder;
  execute?(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void>;
  executeOnMessage?(interaction: MessageContextMenuCommandInteraction, context: CommandContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, context: CommandContext): Promise<void>;
  /**
   * Buttons, menus and modals whose custom id starts with `<command name>:`
   * come back to the command that made them.
   */
  interact?(interaction: MessageComponentInteraction | ModalSubmitInteraction, context: CommandContext): Promise<void>;
}

/** Custom ids are `<command>:<action>:<args…>`; the dispatcher routes on the first part. */
export function customId(command: string, action: string, ...args: string[]): string {
  return [command, action, ...args].join(':');
}

export function parseCustomId(id: string): { command: string; action: string; args: string[] } {
  const [command = '', action = '', ...args] = id.split(':');
  return { command, action, args };
}

export function isCommand(value: unknown): value is Command {
  if (!value || typeof value !== 'object') return false;
  const candidate = value as Partial<Command>;
  return (
    (typeof candidate.execute === 'function' || typeof candidate.executeOnMessage === 'function') &&
    typeof candidate.data === 'object' &&
    candidate.data !== null &&
    typeof candidate.data.name === 'string' &&
    typeof candidate.data.toJSON === 'function'
  );
}
