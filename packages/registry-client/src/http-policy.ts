import { RegistryConfigError } from '@molecule/registry';
import { isLoopbackHostname } from './ip-ranges.js';

/**
 * Which hosts may be spoken to over plain http: loopback (`localhost`, 127.0.0.0/8, `[::1]`)
 * and the hosts listed in `MOLECULE_INSECURE_REGISTRIES` (comma-separated `host[:port]`; an
 * entry without a port matches every port of that host). Everything else is https, and
 * credentials only ever travel over https or to a host that qualifies here.
 */
export interface HttpPolicy {
  /** The scheme to reach `host` (`host[:port]`) with. */
  schemeFor(host: string): 'http' | 'https';
  /** True when `host` (`host[:port]`) may be reached over plain http. */
  allowsPlainHttp(host: string): boolean;
  /** True when credentials may be sent to `url`: https, or http to a host that qualifies. */
  mayCarryCredentials(url: URL): boolean;
}

export function createHttpPolicy(insecure: readonly HostPort[]): HttpPolicy {
  const allowsPlainHttp = (host: string): boolean => {
    const { hostname, port } = splitHostPort(host);
    if (isLoopbackHostname(hostname)) return true;
    return insecure.some(
      (entry) => entry.hostname === hostname && (entry.port === undefined || entry.port === port),
    );
  };
  return {
    allowsPlainHttp,
    schemeFor: (host) => (allowsPlainHttp(host) ? 'http' : 'https'),
    mayCarryCredentials: (url) =>
      url.protocol === 'https:' || (url.protocol === 'http:' && allowsPlainHttp(url.host)),
  };
}

export interface HostPort {
  readonly hostname: string;
  readonly port: string | undefined;
}

/** `example.com:5000` → { example.com, 5000 }; `[::1]:5000` → { [::1], 5000 }. Lower-cased. */
export function splitHostPort(host: string): HostPort {
  const value = host.trim().toLowerCase();
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value);
  if (!match) return { hostname: value, port: undefined };
  return { hostname: match[1]!, port: match[2] };
}

/** A DNS name, an IPv4 address or a bracketed IPv6 address, then an optional port. */
const INSECURE_ENTRY =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/i;

/**
 * `MOLECULE_INSECURE_REGISTRIES` (comma-separated `host[:port]`, as Docker's
 * `insecure-registries`: no scheme, no path) → its entries. A malformed entry throws
 * `RegistryConfigError`: silently ignoring it would send https to a registry that only
 * speaks http, or worse, accept an entry that matches more than was meant.
 */
export function parseInsecureRegistries(value: string | undefined): HostPort[] {
  if (value === undefined || value.trim() === '') return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const match = INSECURE_ENTRY.exec(entry);
      const port = match?.[1] === undefined ? undefined : Number(match[1]);
      if (!match || (port !== undefined && (port < 1 || port > 65_535))) {
        throw new RegistryConfigError({
          variable: 'MOLECULE_INSECURE_REGISTRIES',
          value,
          description: 'a list of registry hosts',
          reason: `${JSON.stringify(entry)} is not host[:port]${entry.includes('://') ? ' (remove the scheme)' : entry.includes('/') ? ' (remove the path)' : ''}`,
          expected: 'comma-separated host[:port] entries, e.g. registry.internal:5000,10.0.0.5',
        });
      }
      return splitHostPort(entry);
    });
}
