import { InteractionResponseType, InteractionType, MessageFlags, MessageType } from 'discord-api-types/v10';
import type { FakeContext } from './context.js';
import {
  alreadyAcknowledged,
  invalidForm,
  invalidWebhookToken,
  unknownInteraction,
  unknownMessage,
  unknownWebhook,
  type FieldProblem,
} from './errors.js';
import type { FakeInteraction } from './interactions.js';
import { createMessage, deleteMessage, editMessage } from './messages.js';
import { messagePayload, type Json } from './payloads.js';
import type { Route, RouteRequest, RouteResult } from './router.js';
import type { StoredMessage } from './store.js';
import { validateMessageBody, type MessageBody } from './validation.js';

const R = InteractionResponseType;

/** Which callbacks Discord accepts for each interaction type. */
const ALLOWED_CALLBACKS: Record<number, InteractionResponseType[]> = {
  [InteractionType.ApplicationCommand]: [R.ChannelMessageWithSource, R.DeferredChannelMessageWithSource, R.Modal],
  [InteractionType.MessageComponent]: [
    R.ChannelMessageWithSource,
    R.DeferredChannelMessageWithSource,
    R.DeferredMessageUpdate,
    R.UpdateMessage,
    R.Modal,
  ],
  [InteractionType.ApplicationCommandAutocomplete]: [R.ApplicationCommandAutocompleteResult],
  [InteractionType.ModalSubmit]: [R.ChannelMessageWithSource, R.DeferredChannelMessageWithSource, R.DeferredMessageUpdate, R.UpdateMessage],
};

export const interactionRoutes: Route[] = [
  {
    method: 'POST',
    path: '/interactions/:interactionId/:token/callback',
    auth: 'none',
    handle: (request, ctx) => callback(ctx, request),
  },
];

function callback(ctx: FakeContext, request: RouteRequest): RouteResult {
  const interaction = ctx.interactions.get(request.params.interactionId!);
  if (!interaction || interaction.token !== request.params.token) throw unknownInteraction();
  if (interaction.acknowledged !== undefined) throw alreadyAcknowledged();
  if (Date.now() - interaction.createdAt > ctx.timings.interactionTimeoutMs) throw unknownInteraction();
  const body = (request.body ?? {}) as { type?: number; data?: Json };
  const type = body.type as InteractionResponseType;
  if (!ALLOWED_CALLBACKS[interaction.type]?.includes(type)) {
    throw invalidForm([
      {
        path: ['type'],
        code: 'INTERACTION_RESPONSE_TYPE_INVALID',
        message: `Interaction response type ${String(type)} is not valid here.`,
      },
    ]);
  }
  const data = (body.data ?? {}) as MessageBody & Json;
  const source = interaction.payload.message as { id: string; channel_id: string } | undefined;
  let message: StoredMessage | undefined;
  switch (type) {
    case R.ChannelMessageWithSource:
      validateMessageBody(data, { fileCount: request.files.length, isEdit: false });
      message = replyMessage(ctx, interaction, data, request, false);
      break;
    case R.DeferredChannelMessageWithSource:
      message = replyMessage(ctx, interaction, { flags: (data.flags ?? 0) & MessageFlags.Ephemeral }, request, true);
      break;
    case R.DeferredMessageUpdate:
    case R.UpdateMessage:
      if (!source)
        throw invalidForm([
          { path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'This interaction has no message to update.' },
        ]);
      message = ctx.store.message(source.channel_id, source.id);
      if (type === R.UpdateMessage) {
        validateMessageBody(data, { fileCount: request.files.length, isEdit: true });
        editMessage(ctx, message, data, request.files);
      }
      break;
    case R.ApplicationCommandAutocompleteResult:
      validateChoices(data);
      break;
    case R.Modal:
      validateModal(data);
      break;
  }
  interaction.acknowledged = type;
  if (message) interaction.originalMessageId = message.id;
  interaction.record({ kind: 'callback', type, data, files: request.files, ...(message ? { messageId: message.id } : {}) });
  if (request.query.get('with_response') !== 'true') return { status: 204 };
  return {
    body: {
      interaction: {
        id: interaction.id,
        type: interaction.type,
        ...(message
          ? {
              response_message_id: message.id,
              response_message_loading: Boolean((message.flags ?? 0) & MessageFlags.Loading),
              response_message_ephemeral: Boolean((message.flags ?? 0) & MessageFlags.Ephemeral),
            }
          : {}),
      },
      resource: { type, ...(message && type !== R.DeferredMessageUpdate ? { message: messagePayload(message) } : {}) },
    },
  };
}

/** The reply (or the "thinking…" message of a deferral) posted by the application. */
function replyMessage(
  ctx: FakeContext,
  interaction: FakeInteraction,
  body: MessageBody,
  request: RouteRequest,
  loading: boolean,
  type?: MessageType,
): StoredMessage {
  const channel = ctx.store.channel(interaction.payload.channel_id as string);
  const ephemeral = Boolean((body.flags ?? 0) & MessageFlags.Ephemeral);
  const data = interaction.payload.data as { name?: string; type?: number };
  return createMessage(ctx, {
    channel,
    author: ctx.store.botUser,
    body: { ...body, flags: ((body.flags ?? 0) & ~MessageFlags.Ephemeral) | (loading ? MessageFlags.Loading : 0) },
    files: request.files,
    applicationId: ctx.store.applicationId,
    type: type ?? (interaction.type === InteractionType.ApplicationCommand ? MessageType.ChatInputCommand : MessageType.Default),
    ephemeral,
    interactionId: interaction.id,
    interactionMetadata: {
      id: interaction.id,
      type: interaction.type,
      user: ctx.store.user(interaction.userId),
      authorizing_integration_owners: interaction.payload.authorizing_integration_owners,
      ...(data.name ? { name: data.name, command_type: data.type } : {}),
    },
    // Interaction messages carry webhook_id = the application id, as on Discord.
    webhookId: ctx.store.applicationId,
    fromApp: true,
  });
}

function interactionForToken(ctx: FakeContext, request: RouteRequest): FakeInteraction {
  const interaction = [...ctx.interactions.values()].find((candidate) => candidate.token === request.params.token);
  if (!interaction || interaction.acknowledged === undefined) throw unknownWebhook();
  if (Date.now() - interaction.createdAt > ctx.timings.interactionTokenTtlMs) throw invalidWebhookToken();
  return interaction;
}

function interactionMessage(ctx: FakeContext, interaction: FakeInteraction, messageId: string): StoredMessage {
  const id = messageId === '@original' ? interaction.originalMessageId : messageId;
  if (!id || (id !== interaction.originalMessageId && !interaction.followUpIds.includes(id))) throw unknownMessage();
  const message = ctx.store.messages.get(id);
  if (!message || message.fake.deleted) throw unknownMessage();
  return message;
}

/** POST /webhooks/:appId/:token: a follow-up; the first one after a deferral fills the "thinking…" message. */
export function followUp(ctx: FakeContext, request: RouteRequest): RouteResult {
  const interaction = interactionForToken(ctx, request);
  const body = (request.body ?? {}) as MessageBody;
  validateMessageBody(body, { fileCount: request.files.length, isEdit: false });
  const original = interaction.original;
  if (interaction.acknowledged === R.DeferredChannelMessageWithSource && original && (original.flags ?? 0) & MessageFlags.Loading) {
    editMessage(ctx, original, body, request.files);
    interaction.record({ kind: 'followup', data: body, files: request.files, messageId: original.id });
    return { body: messagePayload(original) };
  }
  const message = replyMessage(ctx, interaction, body, request, false, MessageType.Default);
  interaction.followUpIds.push(message.id);
  interaction.record({ kind: 'followup', data: body, files: request.files, messageId: message.id });
  return { body: messagePayload(message) };
}

export function getInteractionMessage(ctx: FakeContext, request: RouteRequest): RouteResult {
  const interaction = interactionForToken(ctx, request);
  return { body: messagePayload(interactionMessage(ctx, interaction, request.params.messageId!)) };
}

export function editInteractionMessage(ctx: FakeContext, request: RouteRequest): RouteResult {
  const interaction = interactionForToken(ctx, request);
  const message = interactionMessage(ctx, interaction, request.params.messageId!);
  const body = (request.body ?? {}) as MessageBody;
  validateMessageBody(body, { fileCount: request.files.length, isEdit: true });
  editMessage(ctx, message, body, request.files);
  const isOriginal = message.id === interaction.originalMessageId;
  interaction.record({ kind: isOriginal ? 'edit-original' : 'edit-followup', data: body, files: request.files, messageId: message.id });
  return { body: messagePayload(message) };
}

export function deleteInteractionMessage(ctx: FakeContext, request: RouteRequest): RouteResult {
  const interaction = interactionForToken(ctx, request);
  const message = interactionMessage(ctx, interaction, request.params.messageId!);
  deleteMessage(ctx, message);
  const isOriginal = message.id === interaction.originalMessageId;
  interaction.record({ kind: isOriginal ? 'delete-original' : 'delete-followup', data: null, files: [], messageId: message.id });
  return { status: 204 };
}

function validateChoices(data: Json): void {
  const choices = data.choices as { name?: unknown; value?: unknown }[] | undefined;
  const problems: FieldProblem[] = [];
  if (!Array.isArray(choices)) problems.push({ path: ['data', 'choices'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  else {
    if (choices.length > 25)
      problems.push({ path: ['data', 'choices'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
    choices.forEach((choice, index) => {
      if (typeof choice.name !== 'string' || choice.name.length < 1 || choice.name.length > 100) {
        problems.push({
          path: ['data', 'choices', index, 'name'],
          code: 'BASE_TYPE_BAD_LENGTH',
          message: 'Must be between 1 and 100 in length.',
        });
      }
      if (typeof choice.value === 'string' && choice.value.length > 100) {
        problems.push({
          path: ['data', 'choices', index, 'value'],
          code: 'BASE_TYPE_MAX_LENGTH',
          message: 'Must be 100 or fewer in length.',
        });
      }
    });
  }
  if (problems.length) throw invalidForm(problems);
}

function validateModal(data: Json): void {
  const problems: FieldProblem[] = [];
  const customId = data.custom_id;
  const title = data.title;
  const components = data.components as unknown[] | undefined;
  if (typeof customId !== 'string' || customId.length < 1 || customId.length > 100) {
    problems.push({ path: ['data', 'custom_id'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
  }
  if (typeof title !== 'string' || title.length < 1 || title.length > 45) {
    problems.push({ path: ['data', 'title'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 45 in length.' });
  }
  if (!Array.isArray(components) || components.length < 1 || components.length > 5) {
    problems.push({ path: ['data', 'components'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 5 in length.' });
  }
  if (problems.length) throw invalidForm(problems);
}
