import type { APIApplicationCommand, APIApplicationCommandOption } from 'discord-api-types/v10';
import { ApplicationCommandOptionType as OptionType, ChannelType, ComponentType, type InteractionType } from 'discord-api-types/v10';
import type { FakeContext } from './context.js';
import { addMember } from './guild-setup.js';
import { randomToken } from './ids.js';
import { storeAttachment } from './messages.js';
import { channelPayload, memberPayload, messagePayload, type Json } from './payloads.js';
import { channelPermissions, computePermissions } from './permissions.js';
import type { StoredMessage } from './store.js';

/** Who acts, and where. The guild comes from the channel. */
export interface InteractionWhere {
  userId: string;
  channelId: string;
  /** Optional: checked against the channel's guild. */
  guildId?: string;
  /** The member's permissions (default: computed from roles and overwrites). */
  permissions?: bigint;
  locale?: string;
}

/** A file for an attachment option or a user's upload. */
export interface FileInput {
  name: string;
  data: Buffer | string;
  contentType?: string;
}

/** An option value; the type comes from the registered command, else from the JS type, or say it. */
export type OptionValue = string | number | boolean | FileInput | { type: OptionType; value: string | number | boolean };

export interface CommandInput extends InteractionWhere {
  name: string;
  group?: string;
  subcommand?: string;
  options?: Record<string, OptionValue>;
}

type Resolved = Record<'users' | 'members' | 'roles' | 'channels' | 'attachments', Record<string, unknown>>;

/** The fields every interaction carries: ids, token, member/user, channel, permissions, context. */
export function baseInteraction(ctx: FakeContext, type: InteractionType, where: InteractionWhere, data: Json, extra: Json = {}): Json {
  const { store } = ctx;
  const channel = store.channel(where.channelId);
  const user = store.user(where.userId);
  const inGuild = Boolean(channel.guildId) && channel.type !== ChannelType.DM;
  if (where.guildId !== undefined && where.guildId !== channel.guildId) {
    throw new Error(`channel ${channel.id} is in guild ${channel.guildId ?? '(none: a DM)'}, not ${where.guildId}`);
  }
  const common = {
    id: store.ids.next(),
    application_id: store.applicationId,
    type,
    data,
    token: `aW50ZXJhY3Rpb246${randomToken(60)}`,
    version: 1,
    channel: channelPayload(store, channel),
    channel_id: channel.id,
    app_permissions: channelPermissions(store, channel, store.botUser.id).toString(),
    locale: where.locale ?? 'en-US',
    entitlements: [],
    attachment_size_limit: 10 * 1024 * 1024,
    ...extra,
  };
  if (!inGuild) {
    return { ...common, user, context: 1, authorizing_integration_owners: { '0': '0' } };
  }
  const guild = store.guild(channel.guildId!);
  if (!guild.members.has(user.id)) addMember(ctx, guild, user.id);
  const permissions = where.permissions ?? computePermissions(store, guild.id, user.id, channel);
  return {
    ...common,
    guild_id: guild.id,
    guild: { id: guild.id, locale: guild.locale, features: [] },
    guild_locale: guild.locale,
    member: memberPayload(store, guild, user.id, { permissions }),
    context: 0,
    authorizing_integration_owners: { '0': guild.id },
  };
}

/** A registered command by name: the guild's first, then global. */
function findCommand(ctx: FakeContext, name: string, guildId?: string): APIApplicationCommand | undefined {
  const inGuild = guildId ? ctx.store.commands.get(guildId)?.find((command) => command.name === name && command.type === 1) : undefined;
  return inGuild ?? ctx.store.commands.get('global')?.find((command) => command.name === name && command.type === 1);
}

/** APPLICATION_COMMAND (or AUTOCOMPLETE with `focused`) data for a chat input command. */
export function commandData(ctx: FakeContext, input: CommandInput, focused?: string): Json {
  const channel = ctx.store.channel(input.channelId);
  const command = findCommand(ctx, input.name, channel.guildId);
  const label = `/${[input.name, input.group, input.subcommand].filter(Boolean).join(' ')}`;
  const schema = command ? leafSchema(command, input, label) : undefined;
  const resolved: Resolved = { users: {}, members: {}, roles: {}, channels: {}, attachments: {} };
  let options = leafOptions(ctx, input, schema, resolved, label, channel.guildId, focused);
  if (input.subcommand) options = [{ type: OptionType.Subcommand, name: input.subcommand, options }];
  if (input.group) options = [{ type: OptionType.SubcommandGroup, name: input.group, options }];
  const usedResolved = Object.fromEntries(Object.entries(resolved).filter(([, entries]) => Object.keys(entries).length > 0));
  return {
    id: command?.id ?? ctx.store.ids.next(),
    name: input.name,
    type: 1,
    ...(options.length ? { options } : {}),
    ...(Object.keys(usedResolved).length ? { resolved: usedResolved } : {}),
    ...(command?.guild_id ? { guild_id: command.guild_id } : {}),
  };
}

function leafSchema(command: APIApplicationCommand, input: CommandInput, label: string): APIApplicationCommandOption[] {
  let options = command.options ?? [];
  const descend = (name: string | undefined, type: OptionType) => {
    const hasKind = options.some((option) => option.type === type);
    // Discord lets a command mix subcommands and groups at its top level: a group is needed only when there is nothing else.
    const onlyKind =
      hasKind &&
      options.every((option) =>
        option.type === OptionType.Subcommand || option.type === OptionType.SubcommandGroup ? option.type === type : true,
      );
    if (!name) {
      if (type === OptionType.SubcommandGroup ? onlyKind : hasKind)
        throw new Error(`${label}: the registered command needs a ${type === OptionType.Subcommand ? 'subcommand' : 'group'}`);
      return;
    }
    const found = options.find((option) => option.name === name && option.type === type) as
      | { options?: APIApplicationCommandOption[] }
      | undefined;
    if (!found)
      throw new Error(`${label}: the registered command has no ${name} (has: ${options.map((option) => option.name).join(', ')})`);
    options = found.options ?? [];
  };
  descend(input.group, OptionType.SubcommandGroup);
  descend(input.subcommand, OptionType.Subcommand);
  return options;
}

function leafOptions(
  ctx: FakeContext,
  input: CommandInput,
  schema: APIApplicationCommandOption[] | undefined,
  resolved: Resolved,
  label: string,
  guildId: string | undefined,
  focused: string | undefined,
): Json[] {
  const values = { ...input.options };
  if (focused && !(focused in values)) values[focused] = '';
  const options = Object.entries(values).map(([name, raw]) => {
    const declared = schema?.find((option) => option.name === name);
    if (schema && !declared)
      throw new Error(`${label}: no option "${name}" (options: ${schema.map((option) => option.name).join(', ') || 'none'})`);
    const explicit = typeof raw === 'object' && 'type' in raw && 'value' in raw ? raw : undefined;
    const type = explicit?.type ?? declared?.type ?? inferType(raw);
    const value = explicit?.value ?? raw;
    if (name === focused) return { name, type, value: String(value), focused: true };
    return { name, type, value: resolveValue(ctx, type, value, resolved, input, guildId) };
  });
  for (const option of schema ?? []) {
    if ('required' in option && option.required && !(option.name in values)) {
      throw new Error(`${label}: required option "${option.name}" is missing`);
    }
  }
  return options;
}

function inferType(value: OptionValue): OptionType {
  if (typeof value === 'boolean') return OptionType.Boolean;
  if (typeof value === 'number') return Number.isInteger(value) ? OptionType.Integer : OptionType.Number;
  if (typeof value === 'object' && 'data' in value) return OptionType.Attachment;
  return OptionType.String;
}

function resolveValue(
  ctx: FakeContext,
  type: OptionType,
  value: unknown,
  resolved: Resolved,
  where: InteractionWhere,
  guildId?: string,
): unknown {
  const { store } = ctx;
  const guild = guildId ? store.guild(guildId) : undefined;
  const addUser = (id: string) => {
    resolved.users[id] = store.user(id);
    if (guild?.members.has(id)) {
      const { user: _user, ...member } = memberPayload(store, guild, id, { permissions: computePermissions(store, guild.id, id) });
      resolved.members[id] = member;
    }
  };
  switch (type) {
    case OptionType.User:
      addUser(String(value));
      return String(value);
    case OptionType.Role:
    case OptionType.Mentionable: {
      const id = String(value);
      const role = guild?.roles.find((candidate) => candidate.id === id);
      if (role) resolved.roles[id] = role;
      else addUser(id);
      return id;
    }
    case OptionType.Channel: {
      const channel = store.channel(String(value));
      resolved.channels[channel.id] = {
        ...channelPayload(store, channel),
        permissions: channelPermissions(store, channel, where.userId).toString(),
      };
      return channel.id;
    }
    case OptionType.Attachment: {
      const file = value as FileInput;
      const attachment = storeAttachment(ctx, where.channelId, {
        filename: file.name,
        contentType: file.contentType ?? 'application/octet-stream',
        data: Buffer.isBuffer(file.data) ? file.data : Buffer.from(file.data),
      });
      resolved.attachments[attachment.id] = { ...attachment, ephemeral: true };
      return attachment.id;
    }
    default:
      return value;
  }
}

/** Finds a component by custom_id anywhere in a message (rows, sections, containers). */
export function findComponent(message: StoredMessage, customId: string): Json | undefined {
  const stack: Json[] = [...((message.components ?? []) as unknown as Json[])];
  while (stack.length) {
    const component = stack.pop()!;
    if (component.custom_id === customId) return component;
    for (const key of ['components', 'component', 'accessory'] as const) {
      const child = component[key];
      if (Array.isArray(child)) stack.push(...(child as Json[]));
      else if (child && typeof child === 'object') stack.push(child as Json);
    }
  }
  return undefined;
}

export function allCustomIds(message: StoredMessage): string[] {
  return (
    JSON.stringify(message.components ?? [])
      .match(/"custom_id":"([^"]*)"/g)
      ?.map((match) => match.slice(13, -1)) ?? []
  );
}

/** MESSAGE_COMPONENT data and the message it was on. */
export function componentData(message: StoredMessage, component: Json, values?: string[]): { data: Json; message: Json } {
  const type = component.type as ComponentType;
  const data: Json = { custom_id: component.custom_id, component_type: type };
  if (type !== ComponentType.Button) data.values = values ?? [];
  return { data, message: { ...messagePayload(message) } };
}

/** MODAL_SUBMIT components mirroring the modal's layout (action rows or labels), filled with `values`. */
export function modalSubmitComponents(modal: Json, values: Record<string, string | string[]>): Json[] {
  const used = new Set<string>();
  const fill = (component: Json): Json => {
    const customId = component.custom_id as string;
    const value = values[customId];
    used.add(customId);
    if (component.type === ComponentType.TextInput) {
      const text = typeof value === 'string' ? value : '';
      const required = component.required !== false;
      if (required && !text) throw new Error(`modal ${String(modal.custom_id)}: field "${customId}" is required`);
      if (typeof component.max_length === 'number' && text.length > component.max_length) {
        throw new Error(`modal ${String(modal.custom_id)}: field "${customId}" is longer than ${component.max_length}`);
      }
      if (text && typeof component.min_length === 'number' && text.length < component.min_length) {
        throw new Error(`modal ${String(modal.custom_id)}: field "${customId}" is shorter than ${component.min_length}`);
      }
      return { type: ComponentType.TextInput, ...(component.id ? { id: component.id } : {}), custom_id: customId, value: text };
    }
    return { type: component.type, custom_id: customId, values: Array.isArray(value) ? value : value ? [value] : [] };
  };
  const components = ((modal.components as Json[] | undefined) ?? []).map((top): Json => {
    if (top.type === ComponentType.ActionRow) return { type: ComponentType.ActionRow, components: (top.components as Json[]).map(fill) };
    if (top.type === ComponentType.Label)
      return { type: ComponentType.Label, ...(top.id ? { id: top.id } : {}), component: fill(top.component as Json) };
    return { type: top.type, ...(top.id ? { id: top.id } : {}) };
  });
  const unknown = Object.keys(values).filter((key) => !used.has(key));
  if (unknown.length)
    throw new Error(`modal ${String(modal.custom_id)} has no field ${unknown.join(', ')} (fields: ${[...used].join(', ')})`);
  return components;
}
