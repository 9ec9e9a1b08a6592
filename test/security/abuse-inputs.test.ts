import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Character, CharacterKnowledge, LlmProviderInstance } from '../../src/db/entities/index.js';
import { download } from '../../src/knowledge/download.js';
import { guardedFetch } from '../../src/llm/endpoint-guard.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

/**
 * Small abuses, each answered at once in plain words (never "Something went wrong", never three retries first):
 * links with other schemes, private addresses (IPv4-compatible IPv6 included), a 5,000-character link, a provider
 * form with a forged type, and character names that look empty or ping everyone. Private endpoints are not allowed
 * here, as on a real deployment.
 */
let h: BotHarness;
const em = () => h.deps.database.orm.em.fork();

async function answer(interaction: ReturnType<BotHarness['discord']['slashCommand']>): Promise<string> {
  return String((await interaction.waitForResponse((r) => typeof r.data?.content === 'string', 15_000)).data!.content);
}

async function addUrl(url: string): Promise<string> {
  return answer(
    h.discord.slashCommand({
      name: 'knowledge',
      subcommand: 'add-url',
      options: { character: 'Scribe', url },
      userId: h.alice,
      channelId: h.channel.id,
    }),
  );
}

async function createNamed(name: string): Promise<string> {
  const create = h.discord.slashCommand({ name: 'character', subcommand: 'create', options: {}, userId: h.alice, channelId: h.channel.id });
  await create.waitForModal(15_000);
  return answer(h.discord.submitModal({ from: create, values: { name, personality: 'Someone.', greeting: '', examples: '', avatar: '' } }));
}

beforeAll(async () => {
  h = await startBotHarness({ ALLOW_PRIVATE_ENDPOINTS: 'false' });
  expect(await createNamed('Scribe')).toContain('**Scribe** is ready');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('small abuses get a plain answer at once', () => {
  it('refuses links that are not http(s), or point at private addresses, before queueing anything', async () => {
    const cases: [string, string][] = [
      [
        'gopher://example.com/notes',
        'The link gopher://example.com/notes is not allowed: only http and https are allowed. Links must be public http(s) addresses.',
      ],
      [
        'file:///etc/passwd',
        'The link file:///etc/passwd is not allowed: only http and https are allowed. Links must be public http(s) addresses.',
      ],
      [
        'http://127.0.0.1:6379/',
        'The link http://127.0.0.1:6379/ is not allowed: it points at a private address. Links must be public http(s) addresses.',
      ],
      [
        'http://[::127.0.0.1]:5432/',
        'The link http://[::127.0.0.1]:5432/ is not allowed: it points at a private address. Links must be public http(s) addresses.',
      ],
      [
        'http://[::ffff:169.254.169.254]/latest/meta-data/',
        'The link http://[::ffff:169.254.169.254]/latest/meta-data/ is not allowed: it points at a private address. Links must be public http(s) addresses.',
      ],
      [`https://example.com/${'a'.repeat(5000)}`, 'That link is longer than 2000 characters.'],
    ];
    for (const [url, expected] of cases) expect(await addUrl(url), url).toBe(expected);
    expect(await em().count(CharacterKnowledge, {})).toBe(0);
  });

  it('says at once why a download was blocked after DNS, instead of retrying', async () => {
    const fetcher = guardedFetch({
      allowPrivate: false,
      lookup: (_host, _options, callback) => callback(null, [{ address: '10.0.0.7', family: 4 }]),
    });
    await expect(download('http://files.example.test/notes.txt', { maxBytes: 1024, timeoutMs: 5000 }, fetcher)).rejects.toMatchObject({
      name: 'UserError',
      message:
        'The link files.example.test is not allowed: it resolves to the private address 10.0.0.7. Links must be public http(s) addresses.',
    });
  });

  it('refuses a provider at [::127.0.0.1], and a forged provider type, in plain words', async () => {
    const add = h.discord.slashCommand({
      name: 'provider',
      subcommand: 'add',
      options: { type: 'openai-compatible' },
      userId: h.alice,
      channelId: h.channel.id,
    });
    await add.waitForModal(15_000);
    const refused = await answer(
      h.discord.submitModal({ from: add, values: { name: 'Sneaky', endpoint: 'http://[::127.0.0.1]:11434/v1', key: '', model: '' } }),
    );
    expect(refused).toBe(
      'The endpoint http://[::127.0.0.1]:11434/v1 is not allowed: it points at a private address. Endpoints must be public http(s) addresses.',
    );
    const forged = await answer(
      h.discord.submitModal({
        customId: 'provider:add:user:gopher',
        values: { name: 'Forged', endpoint: 'https://example.com/v1', key: '', model: '' },
        userId: h.alice,
        channelId: h.channel.id,
      }),
    );
    expect(forged).toBe('That is not a provider type. Supported: openai, openai-compatible, anthropic, ollama.');
    const scope = await answer(
      h.discord.submitModal({
        customId: 'provider:add:root:openai',
        values: { name: 'Forged', endpoint: '', key: '', model: '' },
        userId: h.alice,
        channelId: h.channel.id,
      }),
    );
    expect(scope).toBe('That is not a provider scope: choose yours, this server’s or the operator’s.');
    expect(await em().count(LlmProviderInstance, { displayName: { $in: ['Sneaky', 'Forged'] } })).toBe(0);
  });

  it('refuses character names that look empty, flip direction or ping everyone', async () => {
    const cases: [string, string][] = [
      ['\u200b\u200c\u2060', 'Name needs at least one visible character.'],
      ['\u3164\u3164', 'Name needs at least one visible character.'],
      ['\u202e\u2066', 'Name cannot contain text-direction overrides.'],
      ['Ali\u202eecila', 'Name cannot contain text-direction overrides.'],
      ['@everyone', 'Name cannot contain @everyone or @here.'],
      ['Hi @here', 'Name cannot contain @everyone or @here.'],
    ];
    for (const [name, expected] of cases) expect(await createNamed(name), JSON.stringify(name)).toBe(expected);
    expect(await em().count(Character, {})).toBe(1);
    // Ordinary names with marks, spaces and emoji are fine.
    expect(await createNamed('Zoë the 🦊')).toContain('is ready');
  });
});
