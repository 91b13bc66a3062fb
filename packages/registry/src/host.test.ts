import { describe, expect, it } from 'vitest';
import { looksLikeRegistryHost, parseRegistryHost } from './host.js';

/** `n` characters of dotted 63-character labels, for the RFC 1035 length limits. */
const hostnameOfLength = (n: number): string => {
  const labels: string[] = [];
  let left = n;
  while (left > 0) {
    const size = Math.min(63, left);
    labels.push('a'.repeat(size));
    left -= size + 1;
  }
  return labels.join('.');
};

describe('parseRegistryHost', () => {
  it.each([
    ['ghcr.io', { hostname: 'ghcr.io', port: undefined }],
    ['localhost:1', { hostname: 'localhost', port: 1 }],
    ['localhost:65535', { hostname: 'localhost', port: 65_535 }],
    ['[::1]', { hostname: '[::1]', port: undefined }],
    ['[::1]:5000', { hostname: '[::1]', port: 5000 }],
    ['[1:2:3:4:5:6:7:8]', { hostname: '[1:2:3:4:5:6:7:8]', port: undefined }],
    ['[1::2:3:4:5:6:7]', { hostname: '[1::2:3:4:5:6:7]', port: undefined }],
    ['[abcd::ef01]:443', { hostname: '[abcd::ef01]', port: 443 }],
    [`${'a'.repeat(63)}.io`, { hostname: `${'a'.repeat(63)}.io`, port: undefined }],
    [hostnameOfLength(253), { hostname: hostnameOfLength(253), port: undefined }],
  ] as const)('%j → %j', (host, parts) => {
    expect(parseRegistryHost(host)).toEqual(parts);
  });

  // Each refusal with its exact reason: the reason is what the operator reads.
  it.each([
    [':5000', 'the registry host is empty'],
    [hostnameOfLength(254), 'the host name is longer than 253 characters'],
    [
      `${'a'.repeat(64)}.io`,
      `"${'a'.repeat(64)}.io" is not a valid host name (label "${'a'.repeat(64)}" is longer than 63 characters)`,
    ],
    ['localhost:0', 'port 0 is out of range (1-65535)'],
    ['localhost:65536', 'port 65536 is out of range (1-65535)'],
    ['localhost:x5000', 'port "x5000" is not a number'],
    ['localhost:5000x', 'port "5000x" is not a number'],
    ['localhost:05000', 'port "05000" has a leading zero'],
    [
      '[fe80::1%eth0]',
      '"[fe80::1%eth0]" is not an IPv6 address: only hex digits and ":" are allowed',
    ],
    ['[g::1]', '"[g::1]" is not an IPv6 address: only hex digits and ":" are allowed'],
    ['[::1g]', '"[::1g]" is not an IPv6 address: only hex digits and ":" are allowed'],
    ['[1::2::3]', '"[1::2::3]" is not an IPv6 address: "::" may appear only once'],
    ['[12345::1]', '"[12345::1]" is not an IPv6 address: each group has 1 to 4 hex digits'],
    [
      '[1:2:3:4:5:6:7:]',
      '"[1:2:3:4:5:6:7:]" is not an IPv6 address: each group has 1 to 4 hex digits',
    ],
    ['[1:2:3:4:5:6:7]', '"[1:2:3:4:5:6:7]" is not an IPv6 address: wrong number of groups'],
    ['[1::2:3:4:5:6:7:8]', '"[1::2:3:4:5:6:7:8]" is not an IPv6 address: wrong number of groups'],
    ['[::1', '"[::1" opens an IPv6 bracket but never closes it'],
    ['[::1]x', 'unexpected "x" after the IPv6 address'],
  ])('%j: %s', (host, reason) => {
    expect(parseRegistryHost(host)).toBe(reason);
  });
});

describe('looksLikeRegistryHost', () => {
  it.each([
    ['ghcr.io', true],
    ['localhost:5000', true],
    ['localhost', true],
    ['[::1]', true],
    ['acme', false],
    ['localhosts', false],
  ])('%j → %s', (component, expected) => {
    expect(looksLikeRegistryHost(component)).toBe(expected);
  });
});
