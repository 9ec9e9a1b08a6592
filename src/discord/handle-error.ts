import { randomUUID } from 'node:crypto';
import { MessageFlags, type MessageComponentInteraction, type ModalSubmitInteraction, type RepliableInteraction } from 'discord.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isDiscordError } from './webhooks.js';

/**
 * The one place errors from handlers end: a UserError is shown to the user as
 * it is; anything else is logged with an id and the user sees only the id.
 * Knows whether the interaction was already replied to or deferred.
 */
export async function handleInteractionError(
  interaction: RepliableInteraction | MessageComponentInteraction | ModalSubmitInteraction,
  error: unknown,
  logger: Logger,
): Promise<void> {
  let content: string;
  if (error instanceof UserError) {
    content = error.message;
    logger.info({ reason: error.message }, 'user error');
  } else if (isDiscordError(error, 50013) || isDiscordError(error, 50001)) {
    content =
      'Discord did not let me do that here: I am missing a permission in this channel (for scenes: Create Public Threads, Send Messages in Threads and Manage Webhooks).';
    logger.warn({ err: error }, 'missing Discord permission');
  } else {
    const errorId = randomUUID().slice(0, 8);
    logger.error({ err: error, errorId }, 'interaction failed');
    content = `Something went wrong on our side. If it keeps happening, give the bot's operator this code: \`${errorId}\``;
  }
  // Discord refuses messages over 2000 characters; a message that echoes long input must still arrive.
  if (content.length > 2000) content = `${content.slice(0, 1999)}…`;
  try {
    if (interaction.deferred || interaction.replied) {
      await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
    } else {
      await interaction.reply({ content, flags: MessageFlags.Ephemeral });
    }
  } catch (replyError) {
    // The interaction token may have expired (15 minutes); nothing more can be shown.
    logger.warn({ err: replyError }, 'could not tell the user about an error');
  }
}
