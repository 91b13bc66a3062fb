import { isLoopbackHostname } from './ip-ranges.js';
import type { Env } from './types.js';

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

export function createHttpPolicy(env: Env): HttpPolicy {
  const insecure = parseInsecureRegistries(env.MOLECULE_INSECURE_REGISTRIES);
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

interface HostPort {
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

function parseInsecureRegistries(value: string | undefined): HostPort[] {
  if (!value) return [];
  return value
    .split(',')
    .map((entry) =>
      entry
        .trim()
        .replace(/^https?:\/\//i, '')
        .replace(/\/.*$/, ''),
    )
    .filter((entry) => entry !== '')
    .map(splitHostPort);
}
