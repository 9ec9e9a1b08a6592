import type { FakeContext } from './context.js';
import { unknownMember } from './errors.js';
import { addDmChannel } from './guild-setup.js';
import { channelPayload, guildPayload, memberPayload } from './payloads.js';
import type { Route } from './router.js';
import { isThread } from './store.js';

/** Intents the app is "approved" for, as READY's application.flags says (the *Limited flags of an unverified bot). */
export const APPLICATION_FLAGS = (1 << 13) | (1 << 15) | (1 << 19);

export function gatewayUrl(ctx: FakeContext): string {
  return ctx.baseUrl().replace(/^http/, 'ws');
}

/** Gateway discovery, the bot's user and application, guilds, members, DMs. */
export const appRoutes: Route[] = [
  {
    method: 'GET',
    path: '/gateway',
    auth: 'none',
    handle: (_request, ctx) => ({ body: { url: gatewayUrl(ctx) } }),
  },
  {
    method: 'GET',
    path: '/gateway/bot',
    handle: (_request, ctx) => ({
      body: {
        url: gatewayUrl(ctx),
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
      },
    }),
  },
  {
    method: 'GET',
    path: '/users/@me',
    handle: (_request, ctx) => ({ body: { ...ctx.store.botUser, verified: true, mfa_enabled: false, email: null, locale: 'en-US' } }),
  },
  {
    method: 'GET',
    path: '/users/:userId',
    handle: (request, ctx) => ({ body: ctx.store.user(request.params.userId!) }),
  },
  {
    method: 'POST',
    path: '/users/@me/channels',
    handle: (request, ctx) => {
      const channel = addDmChannel(ctx, (request.body as { recipient_id: string }).recipient_id);
      return { body: channelPayload(ctx.store, channel) };
    },
  },
  {
    method: 'GET',
    path: '/applications/@me',
    handle: (_request, ctx) => ({
      body: {
        id: ctx.store.applicationId,
        name: ctx.store.botUser.username,
        icon: null,
        description: '',
        summary: '',
        bot_public: true,
        bot_require_code_grant: false,
        bot: ctx.store.botUser,
        verify_key: '0'.repeat(64),
        team: null,
        owner: ctx.store.botUser,
        flags: APPLICATION_FLAGS,
        approximate_guild_count: ctx.store.guilds.size,
        install_params: { scopes: ['bot', 'applications.commands'], permissions: '0' },
        integration_types_config: { '0': {} },
      },
    }),
  },
  {
    method: 'GET',
    path: '/guilds/:guildId',
    handle: (request, ctx) => {
      const guild = ctx.store.guild(request.params.guildId!);
      const counts =
        request.query.get('with_counts') === 'true' ? { approximate_member_count: guild.members.size, approximate_presence_count: 0 } : {};
      return { body: { ...guildPayload(guild), ...counts } };
    },
  },
  {
    method: 'GET',
    path: '/guilds/:guildId/channels',
    handle: (request, ctx) => {
      const guild = ctx.store.guild(request.params.guildId!);
      const channels = ctx.store.guildChannels(guild.id).filter((channel) => !isThread(channel));
      return { body: channels.map((channel) => channelPayload(ctx.store, channel)) };
    },
  },
  {
    method: 'GET',
    path: '/guilds/:guildId/threads/active',
    handle: (request, ctx) => {
      const guild = ctx.store.guild(request.params.guildId!);
      const threads = ctx.store.guildChannels(guild.id).filter((channel) => isThread(channel) && !channel.thread?.archived);
      return { body: { threads: threads.map((thread) => channelPayload(ctx.store, thread)), members: [] } };
    },
  },
  {
    method: 'GET',
    path: '/guilds/:guildId/roles',
    handle: (request, ctx) => ({ body: ctx.store.guild(request.params.guildId!).roles }),
  },
  {
    method: 'GET',
    path: '/guilds/:guildId/members/:userId',
    handle: (request, ctx) => {
      const guild = ctx.store.guild(request.params.guildId!);
      if (!guild.members.has(request.params.userId!)) throw unknownMember();
      return { body: memberPayload(ctx.store, guild, request.params.userId!) };
    },
  },
];
