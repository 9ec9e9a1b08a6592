import { UserError } from '../errors.js';
import { ACTION_LABELS, type GuildAccess, type GuildAction } from './guild-settings.js';

/** Who acts, as far as permissions go: server admins (Manage Server) and the member's role ids. */
export interface Member {
  isGuildAdmin: boolean;
  /** The member's roles in the server (empty in DMs). */
  roleIds: readonly string[];
  /** Undefined in DMs: server rules do not apply there. */
  guild?: unknown;
}

/** Where something happens. A thread's `parentId` and `nsfw` are its parent channel's. */
export interface Place {
  kind: 'dm' | 'channel' | 'thread';
  channelId: string;
  parentId?: string;
  /** Age-restricted (Discord's channel `nsfw` flag; a thread follows its parent). */
  nsfw: boolean;
}

/** Whether the member may do `action` in their server. Admins always may; in DMs (no server, no `access`) there is no server rule. */
export function can(member: Member, action: GuildAction, access: GuildAccess | undefined): boolean {
  if (!member.guild || !access || member.isGuildAdmin) return true;
  const rule = access.roles[action];
  if (rule === 'everyone') return true;
  return member.roleIds.some((id) => rule.includes(id));
}

/** Throws a plain refusal naming the roles that may. */
export function assertCan(member: Member, action: GuildAction, access: GuildAccess | undefined): void {
  if (!access || can(member, action, access)) return;
  const rule = access.roles[action];
  const who = rule === 'everyone' || rule.length === 0 ? 'server admins' : `members with ${rolesText(rule)} (and server admins)`;
  throw new UserError(`In this server only ${who} may ${ACTION_LABELS[action]}.`);
}

/** `<@&id>` mentions, which Discord shows as the roles' names. */
export function rolesText(ids: readonly string[]): string {
  const mentions = ids.map((id) => `<@&${id}>`);
  return mentions.length <= 1 ? (mentions[0] ?? 'no role') : `${mentions.slice(0, -1).join(', ')} or ${mentions.at(-1)}`;
}

/** Whether the bot answers in this channel of a server (a thread follows its parent). */
export function channelAllowed(access: GuildAccess, place: Place): boolean {
  if (place.kind === 'dm') return true;
  const id = place.kind === 'thread' ? (place.parentId ?? place.channelId) : place.channelId;
  const { mode, ids } = access.channels;
  if (mode === 'allow') return ids.includes(id);
  if (mode === 'deny') return !ids.includes(id);
  return true;
}

export const CHANNEL_REFUSAL = 'I do not answer in this channel: this server’s admins chose where I talk (/settings show).';
export const DM_REFUSAL = 'I do not chat in direct messages on this bot. Talk to me in a server.';
