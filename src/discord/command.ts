import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  SlashCommandBuilder,
  SlashCommandOptionsOnlyBuilder,
  SlashCommandSubcommandsOnlyBuilder,
} from 'discord.js';
import type { Deps } from '../deps.js';

/** The context every handler gets: the process's dependencies and a logger for this interaction. */
export type CommandContext = Deps;

/** One file per slash command in commands/: `export default { data, execute } satisfies Command`. */
export interface Command {
  data: SlashCommandBuilder | SlashCommandOptionsOnlyBuilder | SlashCommandSubcommandsOnlyBuilder;
  execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, context: CommandContext): Promise<void>;
}

export function isCommand(value: unknown): value is Command {
  if (!value || typeof value !== 'object') return false;
  const candidate = value as Partial<Command>;
  return (
    typeof candidate.execute === 'function' &&
    typeof candidate.data === 'object' &&
    candidate.data !== null &&
    typeof candidate.data.name === 'string' &&
    typeof candidate.data.toJSON === 'function'
  );
}
