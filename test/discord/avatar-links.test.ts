import { mkdtemp } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REST } from '@discordjs/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeholderPng } from '../../src/cards/export-card.js';
import { removeAvatar, saveAvatar } from '../../src/characters/avatars.js';
import { AttachmentUrls, signedUrlExpiry } from '../../src/discord/attachment-urls.js';
import { startHealthServer } from '../../src/health.js';
import { createLogger } from '../../src/logger.js';
import { startFakeDiscord, type FakeDiscord } from '../discord-fake/index.js';

const DAY_MS = 24 * 60 * 60_000;
const id = '6c1b2a3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
let discord: FakeDiscord;
let server: Server;
let dataDir: string;
let publicUrl: string;
let rest: REST;

beforeAll(async () => {
  discord = await startFakeDiscord();
  rest = new REST({ api: discord.restUrl }).setToken(discord.token);
  dataDir = await mkdtemp(path.join(tmpdir(), 'dreamchat-public-avatars-'));
  server = await startHealthServer({ port: 0, checks: {}, logger: createLogger('silent'), avatarsFrom: dataDir });
  publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await discord?.close();
});

/** A Discord link to a file uploaded a day and an hour ago: expired. */
function expiredDiscordLink(): string {
  discord.cdnClock.set(Date.now() - DAY_MS - 60 * 60_000);
  const channel = discord.addTextChannel(discord.addGuild({ ownerId: discord.addUser({ username: 'o' }).id }).id);
  const message = discord.userSays(channel.id, discord.addUser({ username: 'u' }).id, 'card', {
    attachments: [{ name: 'card.png', data: placeholderPng(4), contentType: 'image/png' }],
  });
  discord.cdnClock.reset();
  return message.attachments[0]!.url;
}

describe('stored pictures served under PUBLIC_URL', () => {
  it('links a character with a stored picture to the bot’s own copy, which the bot serves, and leaves chosen links alone', async () => {
    const png = placeholderPng(12, [10, 120, 200]);
    await saveAvatar(dataDir, id, png);
    const links = new AttachmentUrls({ rest, logger: createLogger('silent'), publicAvatars: { publicUrl, dataDir } });
    const expired = expiredDiscordLink();
    const link = await links.forCharacter(id, expired);
    expect(link).toMatch(new RegExp(`^${publicUrl}/avatars/${id}\\.png\\?v=\\d+$`));
    const served = await fetch(link!);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
    expect(discord.requestsTo({ route: '/attachments/refresh-urls' })).toHaveLength(0);
    // A picture someone chose elsewhere is theirs to keep.
    expect(await links.forCharacter(id, 'https://cdn.example.org/mine.png')).toBe('https://cdn.example.org/mine.png');

    // Without a stored copy, Discord's link is refreshed instead.
    await removeAvatar(dataDir, id);
    const refreshed = await links.forCharacter(id, expired);
    expect(refreshed).not.toBe(expired);
    expect((await fetch(refreshed!)).status).toBe(200);
    expect((await fetch(`${publicUrl}/avatars/${id}.png`)).status).toBe(404);
    expect((await fetch(`${publicUrl}/avatars/..%2F..%2Fetc%2Fpasswd.png`)).status).toBe(404);
  });
});

describe('refreshing Discord’s signed links', () => {
  it('refreshes a link near its expiry once, however many ask at the same time, and leaves others alone', async () => {
    // Uploaded 23 h 55 min ago: five minutes left, inside the ten-minute margin.
    discord.cdnClock.set(Date.now() - DAY_MS + 5 * 60_000);
    const channel = discord.addTextChannel(discord.addGuild({ ownerId: discord.addUser({ username: 'p' }).id }).id);
    const soon = discord.userSays(channel.id, discord.addUser({ username: 'q' }).id, 'pic', {
      attachments: [{ name: 'pic.png', data: placeholderPng(4), contentType: 'image/png' }],
    }).attachments[0]!.url;
    discord.cdnClock.reset();
    expect(signedUrlExpiry(soon)! - Date.now()).toBeLessThan(10 * 60_000);
    expect(signedUrlExpiry('https://cdn.example.org/a.png?ex=1&is=1&hm=1')).toBeUndefined();
    const links = new AttachmentUrls({ rest, logger: createLogger('silent') });
    const before = discord.requestsTo({ route: '/attachments/refresh-urls' }).length;
    const answers = await Promise.all([links.usable(soon), links.usable(soon), links.usable(soon)]);
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).not.toBe(soon);
    expect(signedUrlExpiry(answers[0]!)! - Date.now()).toBeGreaterThan(DAY_MS - 60_000);
    expect(discord.requestsTo({ route: '/attachments/refresh-urls' }).length).toBe(before + 1);
    // A fresh link, or one elsewhere, is handed out as it is.
    expect(await links.usable(answers[0])).toBe(answers[0]);
    expect(await links.usable('https://cdn.example.org/a.png')).toBe('https://cdn.example.org/a.png');
    expect(await links.usable(null)).toBeUndefined();
    expect(discord.requestsTo({ route: '/attachments/refresh-urls' }).length).toBe(before + 1);
  });
});
