import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Guild, LlmProviderInstance } from '../../src/db/entities/index.js';
import {
  addInstance,
  findUsableInstance,
  removeInstance,
  setDefaultInstance,
  usableInstances,
  viewInstance,
} from '../../src/llm/instances.js';
import { NO_PROVIDER_MESSAGE, ProviderRegistry, resolveInstance, seedSystemInstances } from '../../src/llm/registry.js';
import { SecretBox } from '../../src/llm/secrets.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';

let db: TestDatabase;
let fake: FakeServer;
let alice: Actor;
let aliceAdmin: Actor;
let bob: Actor;
const secrets = SecretBox.fromConfig(`k1:${randomBytes(32).toString('base64')}`);
const deps = { secrets, allowPrivateEndpoints: false };
const em = () => db.orm.em.fork();
const guild = { id: '910000000000000001', name: 'Guild' };

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOpenAI();
  alice = await resolveActor(em(), { user: { id: '110000000000000001', username: 'alice' }, guild });
  aliceAdmin = { ...alice, isGuildAdmin: true };
  bob = await resolveActor(em(), { user: { id: '110000000000000002', username: 'bob' }, guild });
});
afterAll(async () => {
  await fake.close();
  await db?.close();
});

describe('provider instances', () => {
  it('refuses to resolve anything before a provider exists, in plain words', async () => {
    await expect(resolveInstance(em(), alice)).rejects.toThrow(NO_PROVIDER_MESSAGE);
  });

  it('keeps the key encrypted in the stored config and shows it masked', async () => {
    const mine = await addInstance(em(), alice, { scope: 'user', type: 'openai', name: 'My key', apiKey: 'sk-proj-SECRET-abcd1234' }, deps);
    const [row] = await em()
      .getConnection()
      .execute<{ config: unknown }[]>('select config from llm_provider_instances where id = ?', [mine.id]);
    expect(JSON.stringify(row!.config)).not.toContain('SECRET');
    expect(viewInstance(mine, secrets).maskedKey).toBe('sk-…1234');
    expect(mine.isDefault).toBe(true);
  });

  it('lets only server admins add server providers, and only the operator system ones', async () => {
    await expect(
      addInstance(em(), bob, { scope: 'guild', type: 'ollama', name: 'x', baseUrl: 'https://llm.example.org' }, deps),
    ).rejects.toThrow(/Manage Server permission/);
    await expect(addInstance(em(), aliceAdmin, { scope: 'system', type: 'ollama', name: 'x' }, deps)).rejects.toThrow(/operator/);
    const server = await addInstance(
      em(),
      aliceAdmin,
      { scope: 'guild', type: 'openai-compatible', name: 'Server', baseUrl: 'https://llm.example.org/v1' },
      deps,
    );
    expect(server.isDefault).toBe(true);
  });

  it('refuses private endpoints from users and servers', async () => {
    for (const baseUrl of ['http://127.0.0.1:6379', 'http://169.254.169.254/', 'http://localhost:11434']) {
      await expect(addInstance(em(), aliceAdmin, { scope: 'guild', type: 'ollama', name: 'x', baseUrl }, deps)).rejects.toThrow(
        /not allowed/,
      );
    }
  });

  it('never lets one user use or remove another user’s instance', async () => {
    const [aliceKey] = (await usableInstances(em(), alice)).filter((i) => i.scope === 'user');
    await expect(findUsableInstance(em(), bob, aliceKey!.id)).rejects.toThrow(/No such provider/);
    await expect(removeInstance(em(), bob, aliceKey!.id)).rejects.toThrow(/No such provider/);
    const bobSees = (await usableInstances(em(), bob)).map((i) => i.displayName);
    expect(bobSees).toEqual(['Server']);
    await expect(setDefaultInstance(em(), bob, (await usableInstances(em(), bob))[0]!.id)).rejects.toThrow(/Manage Server/);
  });

  it('resolves user default, then server default, then system, skipping disabled ones', async () => {
    expect((await resolveInstance(em(), alice)).displayName).toBe('My key');
    expect((await resolveInstance(em(), bob)).displayName).toBe('Server');
    await em().nativeUpdate(LlmProviderInstance, { displayName: 'My key' }, { isEnabled: false });
    expect((await resolveInstance(em(), alice)).displayName).toBe('Server');
    await em().nativeUpdate(LlmProviderInstance, { displayName: 'My key' }, { isEnabled: true });

    const work = em();
    const row = await work.findOneOrFail(Guild, { discordId: guild.id });
    row.settings = { allowUserKeys: false };
    await work.flush();
    const again = await resolveActor(em(), { user: { id: alice.user.discordId, username: 'alice' }, guild });
    expect((await resolveInstance(em(), again)).displayName).toBe('Server');

    await removeInstance(em(), aliceAdmin, (await resolveInstance(em(), bob)).id);
    const config = loadConfig({ OLLAMA_HOST: fake.url.replace('/v1', ''), OLLAMA_MODEL: 'llama3.2:3b' });
    await seedSystemInstances(em(), config);
    await seedSystemInstances(em(), config);
    expect(await em().count(LlmProviderInstance, { scope: 'system' })).toBe(1);
    expect((await resolveInstance(em(), bob)).displayName).toBe('Ollama (from the environment)');
  });

  it('builds the SDK client once per instance and uses the character’s model', async () => {
    const config = loadConfig({});
    const registry = new ProviderRegistry({ config, secrets });
    const first = await registry.resolve(em(), { actor: alice });
    const second = await registry.resolve(em(), { actor: alice });
    expect(first.provider).toBe(second.provider);
    expect(first.model).toBe('gpt-4o-mini');
    expect(first.contextWindow).toBe(128_000);
    const withModel = await registry.resolve(em(), {
      actor: alice,
      character: { user: { id: alice.user.id }, visibility: 'private', config: { model: 'gpt-4.1-mini' } } as never,
    });
    expect(withModel.model).toBe('gpt-4.1-mini');
    // OpenAI's published window for the GPT-4.1 family.
    expect(withModel.contextWindow).toBe(1_047_576);
    // The most specific context size wins: the character's, the instance's, the operator's, then the family's.
    const operator = new ProviderRegistry({ config: loadConfig({ CONTEXT_WINDOW: '16000' }), secrets });
    expect((await operator.resolve(em(), { actor: alice })).contextWindow).toBe(16_000);
    const mine = await operator.resolve(em(), {
      actor: alice,
      character: { user: { id: alice.user.id }, visibility: 'private', config: { context_window: 4096 } } as never,
    });
    expect(mine.contextWindow).toBe(4096);
  });

  it('keeps settings made on the operator’s providers when it starts again', async () => {
    const config = loadConfig({ OLLAMA_HOST: 'http://127.0.0.1:9', OLLAMA_MODEL: 'llama3.2:3b' });
    await seedSystemInstances(em(), config);
    const work = em();
    const row = await work.findOneOrFail(LlmProviderInstance, { scope: 'system', displayName: 'Ollama (from the environment)' });
    row.config = { ...(row.config as object), contextWindow: 32_768 };
    await work.flush();
    await seedSystemInstances(em(), config);
    const after = await em().findOneOrFail(LlmProviderInstance, row.id);
    expect(after.config).toMatchObject({ baseUrl: 'http://127.0.0.1:9', model: 'llama3.2:3b', contextWindow: 32_768 });
  });
});
