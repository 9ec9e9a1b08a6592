import { ApplicationCommandType, ComponentType, InteractionType } from 'discord-api-types/v10';
import type { FakeContext } from './context.js';
import { addMember } from './guild-setup.js';
import {
  allCustomIds,
  baseInteraction,
  commandData,
  componentData,
  findComponent,
  modalSubmitComponents,
  type CommandInput,
  type FileInput,
  type InteractionWhere,
} from './interaction-payloads.js';
import { FakeInteraction } from './interactions.js';
import { createMessage, deleteMessage, editMessage, storeAttachment } from './messages.js';
import { memberPayload, messagePayload, type Json } from './payloads.js';
import type { StoredMessage } from './store.js';
import type { EmbedBody } from './validation.js';

export interface UserMessageOptions {
  /** Extra user ids in `mentions` (ids written as <@id> in the content are found anyway). */
  mentions?: string[];
  /** Reply to this message id. */
  reference?: string;
  attachments?: FileInput[];
  embeds?: EmbedBody[];
}

export interface ModalSubmitInput {
  /** The interaction that showed the modal: its layout, user and channel are reused. */
  from?: FakeInteraction;
  /** Without `from`: the modal's custom_id, and text fields built from `values`. */
  customId?: string;
  values: Record<string, string | string[]>;
  userId?: string;
  channelId?: string;
  permissions?: bigint;
}

/** What people do in Discord: talk, edit, delete, run commands, press buttons, fill modals. */
export class UserActions {
  /** Every interaction dispatched, in order. */
  readonly interactions: FakeInteraction[] = [];

  constructor(protected readonly ctx: FakeContext) {}

  /** A user posts a message (MESSAGE_CREATE); they join the guild if they are not a member yet. */
  userSays(channelId: string, userId: string, content: string, options: UserMessageOptions = {}): StoredMessage {
    const { store } = this.ctx;
    const channel = store.channel(channelId);
    const author = store.user(userId);
    if (channel.guildId) {
      const guild = store.guild(channel.guildId);
      if (!guild.members.has(userId)) addMember(this.ctx, guild, userId);
    }
    const attachments = (options.attachments ?? []).map((file) =>
      storeAttachment(this.ctx, channel.id, {
        filename: file.name,
        contentType: file.contentType ?? 'application/octet-stream',
        data: Buffer.isBuffer(file.data) ? file.data : Buffer.from(file.data),
      }),
    );
    const extraMentions = options.mentions ?? [];
    const message = createMessage(this.ctx, {
      channel,
      author,
      attachments,
      body: {
        content,
        ...(options.embeds ? { embeds: options.embeds } : {}),
        ...(options.reference ? { message_reference: { message_id: options.reference, channel_id: channel.id } } : {}),
      },
      ...(extraMentions.length ? { extraMentions } : {}),
    });
    return message;
  }

  /** A user edits their message (MESSAGE_UPDATE). */
  userEdits(messageId: string, content: string): StoredMessage {
    return editMessage(this.ctx, this.#message(messageId), { content });
  }

  /** A user deletes a message (MESSAGE_DELETE). */
  userDeletes(messageId: string): void {
    deleteMessage(this.ctx, this.#message(messageId));
  }

  /**
   * A user reacts to a message with a unicode emoji (MESSAGE_REACTION_ADD, seen
   * with the Guild/Direct Message Reactions intent). The message's `reactions`
   * count it, as Discord's do.
   */
  userReacts(messageId: string, userId: string, emoji: string): void {
    const message = this.#message(messageId);
    const reactions = (message.reactions ??= []);
    const existing = reactions.find((reaction) => reaction.emoji.name === emoji && !reaction.emoji.id);
    if (existing) existing.count++;
    else
      reactions.push({
        count: 1,
        count_details: { burst: 0, normal: 1 },
        me: false,
        me_burst: false,
        burst_colors: [],
        emoji: { id: null, name: emoji },
      });
    const guild = message.guild_id ? this.ctx.store.guild(message.guild_id) : undefined;
    this.ctx.dispatch('MESSAGE_REACTION_ADD', {
      user_id: userId,
      channel_id: message.channel_id,
      message_id: message.id,
      ...(guild ? { guild_id: guild.id, member: memberPayload(this.ctx.store, guild, userId, { withUser: true }) } : {}),
      ...(message.webhook_id ? {} : { message_author_id: message.author.id }),
      emoji: { id: null, name: emoji },
      burst: false,
      type: 0,
    });
    this.ctx.signal.notify();
  }

  /**
   * A user runs a message context-menu command ("Apps → name" on a message):
   * INTERACTION_CREATE type 2 with data.type 3, `target_id` and the message
   * in `resolved.messages`. When the bot registered commands, the name must be one of its message commands.
   */
  messageCommand(input: InteractionWhere & { name: string; targetId: string }): FakeInteraction {
    const target = this.#message(input.targetId);
    const channel = this.ctx.store.channel(input.channelId);
    const registered = [
      ...(this.ctx.store.commands.get('global') ?? []),
      ...(channel.guildId ? (this.ctx.store.commands.get(channel.guildId) ?? []) : []),
    ];
    const command = registered.find((candidate) => candidate.name === input.name && candidate.type === ApplicationCommandType.Message);
    if (registered.length && !command) throw new Error(`no message command "${input.name}" is registered`);
    const data = {
      id: command?.id ?? this.ctx.store.ids.next(),
      name: input.name,
      type: ApplicationCommandType.Message,
      target_id: target.id,
      resolved: { messages: { [target.id]: messagePayload(target) } },
      ...(command?.guild_id ? { guild_id: command.guild_id } : {}),
    };
    return this.#interact(InteractionType.ApplicationCommand, input, data);
  }

  /** A user runs a slash command (INTERACTION_CREATE type 2). Options are checked against the registered command when there is one. */
  slashCommand(input: CommandInput): FakeInteraction {
    return this.#interact(InteractionType.ApplicationCommand, input, commandData(this.ctx, input));
  }

  /** A user types into an autocompleted option (INTERACTION_CREATE type 4); `focused` names the option. */
  autocomplete(input: CommandInput & { focused: string }): FakeInteraction {
    return this.#interact(InteractionType.ApplicationCommandAutocomplete, input, commandData(this.ctx, input, input.focused));
  }

  /** A user presses a button on a message (INTERACTION_CREATE type 3). Throws if the message has no such enabled button. */
  pressButton(
    messageId: string,
    customId: string,
    userId: string,
    options: Omit<InteractionWhere, 'userId' | 'channelId'> = {},
  ): FakeInteraction {
    return this.#component(messageId, customId, userId, options, undefined);
  }

  /**
   * A modified client sends a component interaction Discord's own client never would: any custom_id, from any
   * channel, on any message, whether or not that message carries such a component (or is in that channel). For tests
   * of forged ids.
   */
  forgedComponent(input: { customId: string; userId: string; channelId: string; messageId: string; values?: string[] }): FakeInteraction {
    const data: Json =
      input.values === undefined
        ? { custom_id: input.customId, component_type: ComponentType.Button }
        : { custom_id: input.customId, component_type: ComponentType.StringSelect, values: input.values };
    const message = messagePayload(this.#message(input.messageId));
    return this.#interact(InteractionType.MessageComponent, { userId: input.userId, channelId: input.channelId }, data, { message });
  }

  /** A user picks values in a select menu on a message. */
  selectMenu(
    messageId: string,
    customId: string,
    values: string[],
    userId: string,
    options: Omit<InteractionWhere, 'userId' | 'channelId'> = {},
  ): FakeInteraction {
    return this.#component(messageId, customId, userId, options, values);
  }

  /** A user submits a modal (INTERACTION_CREATE type 5), shaped like the one the bot showed. */
  submitModal(input: ModalSubmitInput): FakeInteraction {
    let components: Json[];
    let customId: string;
    const extra: Json = {};
    if (input.from) {
      const modal = input.from.modal;
      if (!modal)
        throw new Error(
          `interaction ${input.from.id} showed no modal (responses: ${input.from.responses.map((r) => r.kind).join(', ') || 'none'})`,
        );
      customId = modal.custom_id as string;
      components = modalSubmitComponents(modal, input.values);
      if (input.from.payload.message) extra.message = input.from.payload.message;
    } else {
      if (!input.customId) throw new Error('submitModal needs `from` (the interaction that showed it) or `customId`');
      customId = input.customId;
      components = Object.entries(input.values).map(([id, value]) => ({
        type: ComponentType.ActionRow,
        components: [{ type: ComponentType.TextInput, custom_id: id, value: Array.isArray(value) ? value.join(',') : value }],
      }));
    }
    const userId = input.userId ?? input.from?.userId;
    const channelId = input.channelId ?? (input.from?.payload.channel_id as string | undefined);
    if (!userId || !channelId) throw new Error('submitModal needs userId and channelId (or `from`)');
    const where: InteractionWhere = { userId, channelId, ...(input.permissions !== undefined ? { permissions: input.permissions } : {}) };
    return this.#interact(InteractionType.ModalSubmit, where, { custom_id: customId, components }, extra);
  }

  #component(
    messageId: string,
    customId: string,
    userId: string,
    options: Omit<InteractionWhere, 'userId' | 'channelId'>,
    values?: string[],
  ): FakeInteraction {
    const message = this.#message(messageId);
    const component = findComponent(message, customId);
    if (!component)
      throw new Error(`message ${messageId} has no component "${customId}" (has: ${allCustomIds(message).join(', ') || 'none'})`);
    if (component.disabled) throw new Error(`component "${customId}" on message ${messageId} is disabled`);
    const isButton = component.type === ComponentType.Button;
    if (isButton !== (values === undefined))
      throw new Error(`component "${customId}" is ${isButton ? 'a button: use pressButton' : 'a select menu: use selectMenu'}`);
    const { data, message: payload } = componentData(message, component, values);
    return this.#interact(InteractionType.MessageComponent, { ...options, userId, channelId: message.channel_id }, data, {
      message: payload,
    });
  }

  #interact(type: InteractionType, where: InteractionWhere, data: Json, extra: Json = {}): FakeInteraction {
    const payload = baseInteraction(this.ctx, type, where, data, extra);
    const interaction = new FakeInteraction(this.ctx, payload);
    this.ctx.interactions.set(interaction.id, interaction);
    this.interactions.push(interaction);
    this.ctx.dispatch('INTERACTION_CREATE', payload);
    return interaction;
  }

  #message(messageId: string): StoredMessage {
    const message = this.ctx.store.messages.get(messageId);
    if (!message || message.fake.deleted) throw new Error(`no message ${messageId} in the fake Discord`);
    return message;
  }
}
