/**
 * Discord's JSON error bodies: `{ code, message }`, plus `errors` (a tree of
 * `_errors` lists keyed by field path) for 50035 Invalid Form Body.
 */
export class DiscordError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: FormErrorTree,
  ) {
    super(message);
  }

  body(): { code: number; message: string; errors?: FormErrorTree } {
    return this.errors ? { code: this.code, message: this.message, errors: this.errors } : { code: this.code, message: this.message };
  }
}

export interface FieldProblem {
  /** Path of the field, e.g. ['embeds', 0, 'description']. */
  path: (string | number)[];
  code: string;
  message: string;
}

export interface FormErrorTree {
  [key: string]: FormErrorTree | { code: string; message: string }[];
}

/** 400 Invalid Form Body with Discord's nested `errors` tree. */
export function invalidForm(problems: FieldProblem[]): DiscordError {
  const tree: FormErrorTree = {};
  for (const problem of problems) {
    let node = tree;
    for (const key of problem.path) {
      node = (node[String(key)] ??= {}) as FormErrorTree;
    }
    const list = ((node as { _errors?: { code: string; message: string }[] })._errors ??= []);
    list.push({ code: problem.code, message: problem.message });
  }
  return new DiscordError(400, 50035, 'Invalid Form Body', tree);
}

export const unknownChannel = () => new DiscordError(404, 10003, 'Unknown Channel');
export const unknownGuild = () => new DiscordError(404, 10004, 'Unknown Guild');
export const unknownMember = () => new DiscordError(404, 10007, 'Unknown Member');
export const unknownMessage = () => new DiscordError(404, 10008, 'Unknown Message');
export const unknownUser = () => new DiscordError(404, 10013, 'Unknown User');
export const unknownWebhook = () => new DiscordError(404, 10015, 'Unknown Webhook');
export const unknownInteraction = () => new DiscordError(404, 10062, 'Unknown interaction');
export const unknownCommand = () => new DiscordError(404, 10063, 'Unknown application command');
export const missingAccess = () => new DiscordError(403, 50001, 'Missing Access');
export const missingPermissions = () => new DiscordError(403, 50013, 'Missing Permissions');
export const emptyMessage = () => new DiscordError(400, 50006, 'Cannot send an empty message');
export const notAuthor = () => new DiscordError(403, 50005, 'Cannot edit a message authored by another user');
export const invalidWebhookToken = () => new DiscordError(401, 50027, 'Invalid Webhook Token');
export const wrongChannelType = () => new DiscordError(400, 50024, 'Cannot execute action on this channel type');
export const alreadyAcknowledged = () => new DiscordError(400, 40060, 'Interaction has already been acknowledged.');
export const threadArchived = () => new DiscordError(400, 50083, 'Thread is archived');
export const tooManyWebhooks = () => new DiscordError(400, 30007, 'Maximum number of webhooks reached (15)');
export const threadAlreadyExists = () => new DiscordError(400, 160004, 'A thread has already been created for this message');
export const unauthorized = () => new DiscordError(401, 0, '401: Unauthorized');
export const notFound = () => new DiscordError(404, 0, '404: Not Found');
export const methodNotAllowed = () => new DiscordError(405, 0, '405: Method Not Allowed');
