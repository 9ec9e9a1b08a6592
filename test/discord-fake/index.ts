/** A fake Discord (gateway + REST on 127.0.0.1) for end-to-end tests with the real discord.js client. */
export { FakeDiscord, type FakeDiscordOptions, type RecordedDispatch, type RequestMatch } from './fake-discord.js';
export { startFakeDiscord } from './start.js';
export type { RecordedRequest } from './http-server.js';
export type { FakeInteraction, InteractionResponse, InteractionResponseKind } from './interactions.js';
export type { CommandInput, FileInput, InteractionWhere, OptionValue } from './interaction-payloads.js';
export type { ModalSubmitInput, UserMessageOptions } from './user-actions.js';
export type { ChannelOptions, GuildOptions, ThreadOptions } from './guild-setup.js';
export type { FailureRule, RateLimitMode, BucketRule } from './rate-limits.js';
export type { StoredChannel, StoredGuild, StoredMessage, StoredWebhook, RecordedFile } from './store.js';
export type { GatewayStats } from './gateway.js';
export { DEFAULT_BOT_PERMISSIONS } from './permissions.js';
