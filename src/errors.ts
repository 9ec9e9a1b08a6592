/**
 * An error whose message is meant for the person who caused it: shown to them
 * (ephemeral on Discord) in plain words. Anything else is a bug, logged with an id.
 */
export class UserError extends Error {
  override name = 'UserError';
}
