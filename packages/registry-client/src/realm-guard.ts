import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { RegistryError } from './errors.js';
import type { HttpPolicy } from './http-policy.js';
import { isLoopbackHostname, isNonPublicAddress, unbracket } from './ip-ranges.js';

/** Resolves a host name to all its addresses (injectable for tests). */
export type LookupAll = (hostname: string) => Promise<readonly string[]>;

export const defaultLookupAll: LookupAll = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * The SSRF rule for token realms: a public registry may not send us to a loopback, private
 * or link-local address for its token (where cloud metadata and admin ports live). Checked
 * after DNS resolution, so a public name resolving to 10.x is caught too. A realm on the
 * registry's own host name is always fine; so is any realm of a registry that is itself
 * loopback, private, or listed in MOLECULE_INSECURE_REGISTRIES.
 */
export async function checkTokenRealm(options: {
  readonly registryHost: string;
  readonly realm: URL;
  readonly policy: HttpPolicy;
  readonly lookup: LookupAll;
}): Promise<void> {
  const registryName = hostnameOf(options.registryHost);
  const realmName = unbracket(options.realm.hostname.toLowerCase());
  if (realmName === registryName) return;
  if (await isNonPublicHost(options.registryHost, options.policy, options.lookup)) return;
  const addresses = await resolve(realmName, options.lookup);
  const blocked = isLoopbackHostname(realmName) || addresses.some(isNonPublicAddress);
  if (blocked) {
    throw new RegistryError({
      code: 'CONFIG',
      method: 'GET',
      target: options.realm.href,
      host: options.realm.host,
      path: options.realm.pathname,
      hint: `token realm resolves to a loopback, private or link-local address while ${options.registryHost} is public; refused (check the registry's WWW-Authenticate challenge)`,
    });
  }
}

async function isNonPublicHost(
  host: string,
  policy: HttpPolicy,
  lookup: LookupAll,
): Promise<boolean> {
  if (policy.allowsPlainHttp(host)) return true;
  const addresses = await resolve(hostnameOf(host), lookup);
  return addresses.length > 0 && addresses.every(isNonPublicAddress);
}

async function resolve(hostname: string, lookup: LookupAll): Promise<readonly string[]> {
  if (isIP(hostname) !== 0) return [hostname];
  try {
    return await lookup(hostname);
  } catch {
    return []; // unresolvable: the request itself will fail with a NETWORK error
  }
}

function hostnameOf(host: string): string {
  const match = /^(\[[^\]]+\]|[^:]+)/.exec(host.trim().toLowerCase());
  return unbracket(match?.[1] ?? host);
}
