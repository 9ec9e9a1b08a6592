import type { APIApplicationCommand } from 'discord-api-types/v10';
import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import type { FakeContext } from './context.js';
import { invalidForm, missingAccess, unknownCommand, type FieldProblem } from './errors.js';
import type { Route, RouteRequest } from './router.js';

const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

interface CommandBody {
  name?: string;
  description?: string;
  type?: number;
  options?: OptionBody[];
  [key: string]: unknown;
}

interface OptionBody {
  name?: string;
  description?: string;
  type?: number;
  required?: boolean;
  choices?: unknown[];
  options?: OptionBody[];
  [key: string]: unknown;
}

function scope(request: RouteRequest, ctx: FakeContext): string {
  if (request.params.applicationId !== ctx.store.applicationId) throw missingAccess();
  if (request.params.guildId) ctx.store.guild(request.params.guildId);
  return request.params.guildId ?? 'global';
}

/** Validates and stores a command, keeping its id when one with the same name and type exists. */
function toCommand(ctx: FakeContext, key: string, body: CommandBody, existing: APIApplicationCommand[]): APIApplicationCommand {
  const type = body.type ?? ApplicationCommandType.ChatInput;
  const previous = existing.find((command) => command.name === body.name && command.type === type);
  return {
    default_member_permissions: null,
    nsfw: false,
    integration_types: [0],
    contexts: null,
    description_localizations: null,
    name_localizations: null,
    ...body,
    id: previous?.id ?? ctx.store.ids.next(),
    application_id: ctx.store.applicationId,
    ...(key === 'global' ? {} : { guild_id: key }),
    type,
    description: body.description ?? '',
    name: body.name!,
    version: ctx.store.ids.next(),
  } as APIApplicationCommand;
}

function commandProblems(body: CommandBody, path: (string | number)[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const chatInput = (body.type ?? ApplicationCommandType.ChatInput) === ApplicationCommandType.ChatInput;
  const name = body.name ?? '';
  if (chatInput ? !NAME.test(name) || name !== name.toLowerCase() : name.length < 1 || name.length > 32) {
    problems.push({ path: [...path, 'name'], code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Command name is invalid' });
  }
  if (chatInput) {
    problems.push(...descriptionProblems(body.description, [...path, 'description']));
    problems.push(...optionProblems(body.options ?? [], [...path, 'options']));
  }
  return problems;
}

function descriptionProblems(description: unknown, path: (string | number)[]): FieldProblem[] {
  if (typeof description === 'string' && description.length >= 1 && description.length <= 100) return [];
  return [{ path, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }];
}

function optionProblems(options: OptionBody[], path: (string | number)[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (options.length > 25) problems.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
  let optionalSeen = false;
  const names = new Set<string>();
  options.forEach((option, index) => {
    const at = [...path, index];
    const name = option.name ?? '';
    if (!NAME.test(name) || name !== name.toLowerCase()) {
      problems.push({ path: [...at, 'name'], code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Command name is invalid' });
    }
    if (names.has(name))
      problems.push({
        path: [...at, 'name'],
        code: 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS',
        message: 'Option name already exists',
      });
    names.add(name);
    problems.push(...descriptionProblems(option.description, [...at, 'description']));
    if ((option.choices?.length ?? 0) > 25)
      problems.push({ path: [...at, 'choices'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
    const nested = option.type === ApplicationCommandOptionType.Subcommand || option.type === ApplicationCommandOptionType.SubcommandGroup;
    if (nested) problems.push(...optionProblems(option.options ?? [], [...at, 'options']));
    else if (option.required && optionalSeen) {
      problems.push({
        path: at,
        code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
        message: 'Required options must be placed before non-required options',
      });
    } else if (!option.required) optionalSeen = true;
  });
  return problems;
}

function overwrite(request: RouteRequest, ctx: FakeContext) {
  const key = scope(request, ctx);
  const bodies = (Array.isArray(request.body) ? request.body : []) as CommandBody[];
  const problems = bodies.flatMap((body, index) => commandProblems(body, [index]));
  const seen = new Set<string>();
  bodies.forEach((body, index) => {
    const id = `${body.type ?? 1}:${body.name}`;
    if (seen.has(id))
      problems.push({
        path: [index, 'name'],
        code: 'APPLICATION_COMMANDS_DUPLICATE_NAME',
        message: `Application command names must be unique`,
      });
    seen.add(id);
  });
  if (bodies.filter((body) => (body.type ?? 1) === 1).length > 100) {
    problems.push({ path: [], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 100 or fewer in length.' });
  }
  if (problems.length) throw invalidForm(problems);
  const existing = ctx.store.commands.get(key) ?? [];
  const commands = bodies.map((body) => toCommand(ctx, key, body, existing));
  ctx.store.commands.set(key, commands);
  ctx.signal.notify();
  return { body: commands };
}

function createOne(request: RouteRequest, ctx: FakeContext) {
  const key = scope(request, ctx);
  const body = (request.body ?? {}) as CommandBody;
  const problems = commandProblems(body, []);
  if (problems.length) throw invalidForm(problems);
  const existing = ctx.store.commands.get(key) ?? [];
  const command = toCommand(ctx, key, body, existing);
  ctx.store.commands.set(key, [...existing.filter((candidate) => candidate.id !== command.id), command]);
  ctx.signal.notify();
  return { status: existing.some((candidate) => candidate.id === command.id) ? 200 : 201, body: command };
}

function findOne(request: RouteRequest, ctx: FakeContext): APIApplicationCommand {
  const command = (ctx.store.commands.get(scope(request, ctx)) ?? []).find((candidate) => candidate.id === request.params.commandId);
  if (!command) throw unknownCommand();
  return command;
}

function deleteOne(request: RouteRequest, ctx: FakeContext) {
  const key = scope(request, ctx);
  const command = findOne(request, ctx);
  ctx.store.commands.set(
    key,
    (ctx.store.commands.get(key) ?? []).filter((candidate) => candidate.id !== command.id),
  );
  ctx.signal.notify();
  return { status: 204 };
}

const list = (request: RouteRequest, ctx: FakeContext) => ({ body: ctx.store.commands.get(scope(request, ctx)) ?? [] });

const GLOBAL = '/applications/:applicationId/commands';
const GUILD = '/applications/:applicationId/guilds/:guildId/commands';

export const commandRoutes: Route[] = [GLOBAL, GUILD].flatMap((base): Route[] => [
  { method: 'GET', path: base, handle: list },
  { method: 'PUT', path: base, handle: overwrite },
  { method: 'POST', path: base, handle: createOne },
  { method: 'GET', path: `${base}/:commandId`, handle: (request, ctx) => ({ body: findOne(request, ctx) }) },
  { method: 'DELETE', path: `${base}/:commandId`, handle: deleteOne },
]);
