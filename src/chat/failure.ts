import { randomUUID } from 'node:crypto';
import { UserError } from '../errors.js';
import { ProviderError } from '../llm/errors.js';
import { PromptTooLargeError } from './prompt.js';

/**
 * What a person sees when a reply could not be written: the reason in plain
 * words when it is theirs or the provider's to fix, otherwise an id to give
 * the operator (the error itself is logged under that id).
 */
export function explainFailure(error: unknown): { message: string; errorId?: string } {
  if (error instanceof UserError || error instanceof PromptTooLargeError) return { message: error.message };
  if (error instanceof ProviderError) return { message: error.userMessage };
  const errorId = randomUUID().slice(0, 8);
  return { message: `The reply failed on our side. If it keeps happening, give the bot's operator this code: ${errorId}`, errorId };
}
