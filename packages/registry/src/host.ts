import { DOMAIN_LABEL } from './grammar.js';

/** A registry host split into its name (IPv6 keeps its brackets) and optional port. */
export interface RegistryHostParts {
  readonly hostname: string;
  readonly port: number | undefined;
}

/**
 * Whether the first component of a name is a registry host rather than a Docker Hub
 * namespace: it contains `.` or `:`, or is exactly `localhost`.
 * Spec: https://github.com/distribution/reference/blob/main/normalize.go (splitDockerDomain)
 */
export function looksLikeRegistryHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

/** Max DNS label and name lengths (RFC 1035 §2.3.4). */
const MAX_LABEL_LENGTH = 63;
const MAX_HOSTNAME_LENGTH = 253;

/**
 * Splits and strictly validates `host[:port]`: lowercase DNS-style name, IPv4 or bracketed IPv6,
 * port 1–65535 without leading zeros. Returns the parts, or a reason string.
 */
export function parseRegistryHost(host: string): RegistryHostParts | string {
  // Docker accepts any case, but credential lookups (docker config `auths`, helpers) compare
  // hosts exactly: an uppercase host would quietly pull without credentials.
  if (/[A-Z]/.test(host)) return `"${host}" has uppercase letters; write the host in lowercase`;
  let hostname: string;
  let portText: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return `"${host}" opens an IPv6 bracket but never closes it`;
    hostname = host.slice(0, close + 1);
    const rest = host.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return `unexpected "${rest}" after the IPv6 address`;
      portText = rest.slice(1);
    }
    const problem = ipv6Problem(hostname.slice(1, -1));
    if (problem !== undefined) return `"${hostname}" is not an IPv6 address: ${problem}`;
  } else {
    const colons = host.split(':').length - 1;
    if (colons > 1) {
      return `"${host}" has more than one ':'; write an IPv6 host in brackets, e.g. [::1]:5000`;
    }
    const colon = host.indexOf(':');
    hostname = colon < 0 ? host : host.slice(0, colon);
    portText = colon < 0 ? undefined : host.slice(colon + 1);
    const problem = hostnameProblem(hostname);
    if (problem !== undefined) return problem;
  }
  if (portText === undefined) return { hostname, port: undefined };
  const port = parsePort(portText);
  if (typeof port === 'string') return port;
  return { hostname, port };
}

function hostnameProblem(hostname: string): string | undefined {
  if (hostname === '') return 'the registry host is empty';
  if (hostname.length > MAX_HOSTNAME_LENGTH) {
    return `the host name is longer than ${MAX_HOSTNAME_LENGTH} characters`;
  }
  for (const label of hostname.split('.')) {
    if (label === '') return `"${hostname}" is not a valid host name (empty label)`;
    if (label.length > MAX_LABEL_LENGTH) {
      return `"${hostname}" is not a valid host name (label "${label}" is longer than ${MAX_LABEL_LENGTH} characters)`;
    }
    if (!DOMAIN_LABEL.test(label)) {
      return `"${hostname}" is not a valid host name (label "${label}": letters, digits and inner '-' only)`;
    }
  }
  return undefined;
}

function parsePort(text: string): number | string {
  if (!/^[0-9]+$/.test(text)) return `port "${text}" is not a number`;
  if (text.length > 1 && text.startsWith('0')) return `port "${text}" has a leading zero`;
  const port = Number(text);
  if (port < 1 || port > 65_535) return `port ${text} is out of range (1-65535)`;
  return port;
}

/** RFC 4291 §2.2 text forms, hex groups only (no zone, no embedded IPv4: Docker rejects both). */
function ipv6Problem(address: string): string | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(address)) return 'only hex digits and ":" are allowed';
  const halves = address.split('::');
  if (halves.length > 2) return '"::" may appear only once';
  const groups = (half: string): string[] => (half === '' ? [] : half.split(':'));
  const all = halves.flatMap(groups);
  if (all.some((group) => group.length < 1 || group.length > 4)) {
    return 'each group has 1 to 4 hex digits';
  }
  if (halves.length === 2 ? all.length > 7 : all.length !== 8) {
    return 'wrong number of groups';
  }
  return undefined;
}
