import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/llm/create-provider.js';
import { checkEndpointUrl, guardedFetch, isPublicAddress, type Lookup } from '../../src/llm/endpoint-guard.js';
import { startFakeOpenAI } from '../fakes-llm/openai.js';
import type { FakeServer } from '../fakes-llm/fake-server.js';

/** Resolves every name to the given address, as a hostile DNS record would. */
const resolvesTo =
  (address: string): Lookup =>
  (_host, _options, callback) =>
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]);

describe('endpoint guard', () => {
  let fake: FakeServer;
  let redirector: Server;
  let redirectorUrl: string;
  let redirects = 0;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    redirector = createServer((_request, response) => {
      redirects += 1;
      response.writeHead(302, { location: 'http://10.1.2.3/v1/models' }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await fake.close();
    redirector.close();
  });

  it('tells public addresses from private, loopback, link-local and mapped ones', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.9',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::ffff:127.0.0.1',
      'fe80::1',
      'fd00::1',
      '224.0.0.1',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    for (const address of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });

  it('refuses private literals, localhost and other schemes for users and guilds', () => {
    const policy = { allowPrivate: false };
    for (const url of [
      'http://127.0.0.1:6379',
      'http://169.254.169.254/latest',
      'http://10.0.0.5/v1',
      'http://[::1]:5432',
      'http://[::ffff:127.0.0.1]/',
      'http://localhost:11434',
      'file:///etc/passwd',
      'gopher://x',
    ]) {
      expect(() => checkEndpointUrl(url, policy), url).toThrow(/not allowed/);
    }
    expect(checkEndpointUrl('https://api.openai.com/v1', policy).hostname).toBe('api.openai.com');
  });

  it('refuses a hostname that resolves to 127.0.0.1, at connect time', async () => {
    const provider = createProvider({
      type: 'openai-compatible',
      name: 'Sneaky',
      config: { baseUrl: `http://innocent.example:${new URL(fake.url).port}/v1`, apiKey: 'k' },
      policy: { allowPrivate: false, lookup: resolvesTo('127.0.0.1') },
    });
    const before = fake.requests.length;
    await expect(provider.listModels()).rejects.toMatchObject({ kind: 'blocked_endpoint' });
    expect(fake.requests.length).toBe(before);
  });

  it('refuses a redirect to a private address without connecting to it', async () => {
    // Only this test's loopback server counts as public, so the first hop is allowed;
    // it redirects to 10.1.2.3, which must be refused before any connection is made.
    const fetcher = guardedFetch({ allowPrivate: false, isAllowed: (address) => address === '127.0.0.1' });
    await expect(fetcher(redirectorUrl)).rejects.toMatchObject({ kind: 'blocked_endpoint' });
    expect(redirects).toBe(1);
  });

  it('lets the operator reach a local server when private addresses are allowed', async () => {
    const provider = createProvider({
      type: 'openai-compatible',
      name: 'Local',
      config: { baseUrl: fake.url },
      policy: { allowPrivate: true },
    });
    expect((await provider.listModels()).length).toBeGreaterThan(0);
  });
});
