import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { ProviderError } from './errors.js';

export type Lookup = (
  hostname: string,
  options: { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface EndpointPolicy {
  /** The operator's own instances may reach private and loopback addresses (a local Ollama). */
  allowPrivate: boolean;
  /** DNS resolution; tests inject one that maps names to chosen addresses. */
  lookup?: Lookup;
  /** Which addresses count as public (default isPublicAddress); tests narrow it. */
  isAllowed?: (address: string) => boolean;
}

/** Public unicast only: no loopback, private, link-local (cloud metadata), CGNAT, multicast or reserved ranges. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    // IPv4-compatible addresses (::a.b.c.d, deprecated; URLs write [::127.0.0.1] as [::7f00:1]) reach IPv4 hosts on
    // some stacks: never public. IPv4-mapped ones (::ffff:a.b.c.d) are judged by their IPv4 address.
    if (v6.parts.slice(0, 6).every((part) => part === 0)) return false;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

function refused(url: string, reason: string): ProviderError {
  return new ProviderError(
    'blocked_endpoint',
    `The endpoint ${url} is not allowed: ${reason}. Endpoints must be public http(s) addresses.`,
  );
}

/** Checks the URL itself: scheme, and the host when it is an IP literal. */
export function checkEndpointUrl(raw: string, policy: EndpointPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ProviderError('bad_request', `“${raw}” is not a valid URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(raw, 'only http and https are allowed');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const allowed = policy.isAllowed ?? isPublicAddress;
  if (!policy.allowPrivate && isIP(host) && !allowed(host)) throw refused(raw, 'it points at a private address');
  if (!policy.allowPrivate && /^localhost\.?$/i.test(host)) throw refused(raw, 'it points at this machine');
  return url;
}

/**
 * A fetch for provider SDKs that enforces the policy where it matters: every
 * address a name resolves to is checked when the socket connects (so DNS
 * rebinding does not help), and redirects are followed by hand, each hop
 * checked again.
 */
export function guardedFetch(policy: EndpointPolicy): typeof fetch {
  const resolve: Lookup = policy.lookup ?? ((hostname, options, callback) => dnsLookup(hostname, options, callback));
  const allowed = policy.isAllowed ?? isPublicAddress;
  const agent = new Agent({
    connect: {
      lookup: ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
        resolve(hostname, { all: true }, (error, addresses) => {
          if (error) return callback(error);
          const blocked = addresses.find((entry) => !allowed(entry.address));
          if (!policy.allowPrivate && blocked) {
            return callback(refused(hostname, `it resolves to the private address ${blocked.address}`));
          }
          const all = (options as { all?: boolean }).all;
          if (all) return callback(null, addresses);
          const first = addresses[0];
          if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }));
          callback(null, first.address, first.family);
        });
      }) as never,
    },
  });
  return (async (input: string | URL | Request, init?: RequestInit) => {
    let url = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
    let request = init ?? {};
    for (let hop = 0; hop <= 5; hop++) {
      checkEndpointUrl(url, policy);
      const response = await undiciFetch(url, { ...(request as object), redirect: 'manual', dispatcher: agent } as never);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return response as unknown as Response;
      url = new URL(location, url).toString();
      if (response.status === 303) request = { ...request, method: 'GET', body: undefined };
    }
    throw new ProviderError('bad_request', 'The endpoint redirected too many times.');
  }) as typeof fetch;
}
