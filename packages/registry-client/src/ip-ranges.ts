import { BlockList, isIP } from 'node:net';

/**
 * Address classes the SSRF rule cares about. Loopback, private (RFC 1918, CGNAT, ULA) and
 * link-local (including cloud metadata at 169.254.169.254) are "not public".
 */
const notPublic = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  notPublic.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  notPublic.addSubnet(network, prefix, 'ipv6');
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** `[::1]` → `::1`; other hostnames unchanged. */
export function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function mappedV4(address: string): string | undefined {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match?.[1];
}

/** True for an IP address (v4 or v6) that is loopback, private or link-local. */
export function isNonPublicAddress(address: string): boolean {
  const ip = unbracket(address);
  const v4 = mappedV4(ip);
  if (v4 !== undefined) return notPublic.check(v4, 'ipv4');
  const family = isIP(ip);
  if (family === 4) return notPublic.check(ip, 'ipv4');
  if (family === 6) return notPublic.check(ip, 'ipv6');
  return false;
}

/** `localhost`, 127.0.0.0/8 and ::1 (bracketed or not). */
export function isLoopbackHostname(hostname: string): boolean {
  const name = unbracket(hostname).toLowerCase();
  if (name === 'localhost') return true;
  const v4 = mappedV4(name);
  if (v4 !== undefined) return loopback.check(v4, 'ipv4');
  const family = isIP(name);
  if (family === 4) return loopback.check(name, 'ipv4');
  if (family === 6) return loopback.check(name, 'ipv6');
  return false;
}
