import { describe, expect, it } from 'vitest';
import { assertCan, can, channelAllowed, type Member, type Place } from '../../src/permissions/access.js';
import { characterBlock, sceneBlock } from '../../src/permissions/content.js';
import { guildAccessSchema, type GuildAccess } from '../../src/permissions/guild-settings.js';

const access = (settings: Record<string, unknown> = {}): GuildAccess => guildAccessSchema.parse(settings);
const member = (roleIds: string[], isGuildAdmin = false): Member => ({ guild: {}, roleIds, isGuildAdmin });
const channel = (channelId: string, nsfw = false): Place => ({ kind: 'channel', channelId, nsfw });
const thread = (parentId: string, nsfw = false): Place => ({ kind: 'thread', channelId: `${parentId}9`, parentId, nsfw });
const dm: Place = { kind: 'dm', channelId: '5', nsfw: false };

describe('guild settings', () => {
  it('defaults to everyone for everything but server providers, every channel and no bans', () => {
    expect(access()).toEqual({
      roles: { createCharacters: 'everyone', startScenes: 'everyone', uploadKnowledge: 'everyone', addProviders: [] },
      channels: { mode: 'all', ids: [] },
      bannedCharacters: [],
    });
  });

  it('falls back to the defaults for malformed stored values instead of locking the server out', () => {
    const parsed = access({
      roles: { startScenes: 42, createCharacters: ['1'] },
      channels: 'nope',
      bannedCharacters: [1],
      allowUserKeys: false,
    });
    expect(parsed.roles.startScenes).toBe('everyone');
    expect(parsed.roles.createCharacters).toEqual(['1']);
    expect(parsed.channels).toEqual({ mode: 'all', ids: [] });
    expect(parsed.bannedCharacters).toEqual([]);
  });
});

describe('role gates', () => {
  const settings = access({ roles: { createCharacters: ['10', '11'] } });

  it('lets a member with a listed role pass and refuses others, naming the roles that may', () => {
    expect(can(member(['11']), 'createCharacters', settings)).toBe(true);
    expect(can(member(['12']), 'createCharacters', settings)).toBe(false);
    expect(() => assertCan(member(['12']), 'createCharacters', settings)).toThrow(
      /only members with <@&10> or <@&11> \(and server admins\) may create characters/,
    );
  });

  it('always lets server admins pass, and applies no server rule in DMs', () => {
    expect(can(member([], true), 'createCharacters', settings)).toBe(true);
    expect(can({ roleIds: [], isGuildAdmin: false }, 'createCharacters', settings)).toBe(true);
    expect(can(member([]), 'addProviders', access())).toBe(false);
    expect(() => assertCan(member([]), 'addProviders', access())).toThrow(/only server admins may add server AI providers/);
    expect(can(member([]), 'startScenes', access())).toBe(true);
  });
});

describe('channel gate', () => {
  it('answers everywhere by default, only in listed channels in allow mode, and not in listed ones in deny mode', () => {
    expect(channelAllowed(access(), channel('1'))).toBe(true);
    const allow = access({ channels: { mode: 'allow', ids: ['1'] } });
    expect(channelAllowed(allow, channel('1'))).toBe(true);
    expect(channelAllowed(allow, channel('2'))).toBe(false);
    const deny = access({ channels: { mode: 'deny', ids: ['1'] } });
    expect(channelAllowed(deny, channel('1'))).toBe(false);
    expect(channelAllowed(deny, channel('2'))).toBe(true);
  });

  it('lets threads follow their parent channel', () => {
    expect(channelAllowed(access({ channels: { mode: 'allow', ids: ['1'] } }), thread('1'))).toBe(true);
    expect(channelAllowed(access({ channels: { mode: 'deny', ids: ['1'] } }), thread('1'))).toBe(false);
  });
});

describe('content controls', () => {
  const nyx = { id: '00000000-0000-4000-8000-000000000001', name: 'Nyx', isNsfw: true };
  const aria = { id: '00000000-0000-4000-8000-000000000002', name: 'Aria', isNsfw: false };
  const off = { allowNsfwDms: false };

  it('runs NSFW characters only in age-restricted channels and their threads', () => {
    expect(characterBlock(nyx, channel('1'), access(), off)).toMatch(/Nyx is marked NSFW and only runs in age-restricted channels/);
    expect(characterBlock(nyx, channel('1', true), access(), off)).toBeNull();
    expect(characterBlock(nyx, thread('1', true), access(), off)).toBeNull();
    expect(characterBlock(nyx, thread('1', false), access(), off)).not.toBeNull();
    expect(characterBlock(aria, channel('1'), access(), off)).toBeNull();
  });

  it('never in DMs unless the operator allows it', () => {
    expect(characterBlock(nyx, dm, undefined, off)).toMatch(/does not run NSFW content in direct messages/);
    expect(characterBlock(nyx, dm, undefined, { allowNsfwDms: true })).toBeNull();
  });

  it('refuses a banned character even in an age-restricted channel', () => {
    const banned = access({ bannedCharacters: [aria.id] });
    expect(characterBlock(aria, channel('1', true), banned, off)).toMatch(/Aria is banned from this server/);
    expect(characterBlock(aria, channel('1', true), access(), off)).toBeNull();
  });

  it('treats a scene as NSFW when started so or when any character is', () => {
    expect(sceneBlock({ nsfw: true, characters: [aria] }, channel('1'), access(), off)).toMatch(/This scene is marked NSFW/);
    expect(sceneBlock({ nsfw: false, characters: [aria, nyx] }, channel('1'), access(), off)).toMatch(/Nyx is marked NSFW/);
    expect(sceneBlock({ nsfw: true, characters: [aria, nyx] }, thread('1', true), access(), off)).toBeNull();
    expect(sceneBlock({ nsfw: false, characters: [aria] }, channel('1'), access({ bannedCharacters: [aria.id] }), off)).toMatch(/banned/);
  });
});
