import { afterEach, describe, expect, it, vi } from 'vitest';
import { RegistryConfigError } from './errors.js';
import { runtimeRepository } from './images.js';
import {
  DEFAULT_REGISTRY_PREFIX,
  parseRegistryPrefix,
  registryHost,
  registryPrefix,
} from './prefix.js';
import { parseImageReference } from './reference.js';
import { KNOWN_RUNTIMES } from './runtimes.js';

const VAR = 'MOLECULE_IMAGE_REGISTRY';
/** Longest repository name the distribution grammar allows. */
const NAME_MAX = 255;
const env = (value: string | undefined) => ({ [VAR]: value });

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('registryPrefix', () => {
  it('defaults to ghcr.io/molecule-ai', () => {
    expect(DEFAULT_REGISTRY_PREFIX).toBe('ghcr.io/molecule-ai');
    expect(registryPrefix({})).toBe('ghcr.io/molecule-ai');
  });

  it.each([
    ['unset', undefined],
    ['empty', ''],
    ['spaces', '   '],
    ['tabs and newlines', '\t\n \r\n'],
  ])('falls back to the default when %s', (_label, value) => {
    expect(registryPrefix(env(value))).toBe(DEFAULT_REGISTRY_PREFIX);
  });

  it.each([
    ['ghcr.io/molecule-ai', 'ghcr.io/molecule-ai'],
    [
      '123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai',
      '123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai',
    ],
    ['git.example.com:3000/org/sub', 'git.example.com:3000/org/sub'],
    ['localhost:5000', 'localhost:5000'],
    ['localhost', 'localhost'],
    ['127.0.0.1:5000/acme', '127.0.0.1:5000/acme'],
    ['[::1]:5000', '[::1]:5000'],
    ['[::1]:5000/acme', '[::1]:5000/acme'],
    ['[2001:db8::1]/org', '[2001:db8::1]/org'],
    ['[2001:db8:1:2:3:4:5:6]:443/org', '[2001:db8:1:2:3:4:5:6]:443/org'],
    ['docker.io/acme', 'docker.io/acme'],
    ['harbor.example.com/a.b/c_d/e__f/g--h/x-y', 'harbor.example.com/a.b/c_d/e__f/g--h/x-y'],
    ['registry.example.com:65535/org', 'registry.example.com:65535/org'],
    ['xn--n3h.com/org', 'xn--n3h.com/org'],
  ])('takes the override %j', (value, expected) => {
    expect(registryPrefix(env(value))).toBe(expected);
  });

  it.each([
    ['one trailing slash', 'ghcr.io/acme/', 'ghcr.io/acme'],
    ['several trailing slashes', 'ghcr.io/acme///', 'ghcr.io/acme'],
    ['a bare host with a trailing slash', 'localhost:5000/', 'localhost:5000'],
    ['surrounding whitespace', '  ghcr.io/acme \t', 'ghcr.io/acme'],
    ['whitespace and a trailing slash', '\n127.0.0.1:5000/acme/ \n', '127.0.0.1:5000/acme'],
  ])('forgives %s', (_label, value, expected) => {
    expect(registryPrefix(env(value))).toBe(expected);
  });

  it('reads process.env only as the default argument', () => {
    vi.stubEnv(VAR, 'registry.example.com/from-process');
    expect(registryPrefix()).toBe('registry.example.com/from-process');
    expect(registryPrefix({})).toBe(DEFAULT_REGISTRY_PREFIX);
    expect(registryPrefix(env('localhost:5000/given'))).toBe('localhost:5000/given');
  });

  it('ignores unrelated variables', () => {
    expect(
      registryPrefix({ MOLECULE_IMAGE_REGISTRY_X: 'localhost:5000', REGISTRY: 'a.io/b' }),
    ).toBe(DEFAULT_REGISTRY_PREFIX);
  });
});

describe('registryHost', () => {
  it.each([
    ['GHCR (default)', undefined, 'ghcr.io'],
    ['GHCR', 'ghcr.io/molecule-ai', 'ghcr.io'],
    [
      'ECR',
      '123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai',
      '123456789012.dkr.ecr.us-east-2.amazonaws.com',
    ],
    [
      'self-hosted with port and nested path',
      'git.example.com:3000/org/sub',
      'git.example.com:3000',
    ],
    ['bare host with port', 'localhost:5000', 'localhost:5000'],
    ['bare host', 'registry.internal', 'registry.internal'],
    ['IPv4 loopback', '127.0.0.1:5000/acme', '127.0.0.1:5000'],
    ['IPv6 loopback', '[::1]:5000', '[::1]:5000'],
    ['IPv6 loopback with a path', '[::1]:5000/acme/sub', '[::1]:5000'],
    ['Docker Hub organisation', 'docker.io/acme', 'docker.io'],
  ])('%s → host', (_label, value, expected) => {
    expect(registryHost(env(value))).toBe(expected);
  });

  it.each([
    undefined,
    '',
    ' ',
    'ghcr.io/molecule-ai',
    'localhost',
    'localhost:5000/',
    '[::1]:5000',
    'a.b/c/d/e',
    '123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai',
  ])('is never empty and never the org path (%j)', (value) => {
    const host = registryHost(env(value));
    expect(host).not.toBe('');
    expect(host).not.toContain('/');
    const prefix = registryPrefix(env(value));
    expect(prefix === host || prefix.startsWith(`${host}/`)).toBe(true);
  });

  it('follows process.env only as the default argument', () => {
    vi.stubEnv(VAR, '[::1]:5000/acme');
    expect(registryHost()).toBe('[::1]:5000');
    expect(registryHost({})).toBe('ghcr.io');
  });

  it('throws the same RegistryConfigError as registryPrefix on a bad value', () => {
    expect(() => registryHost(env('https://ghcr.io/org'))).toThrow(RegistryConfigError);
  });
});

describe('parseRegistryPrefix', () => {
  it('splits host and path', () => {
    expect(parseRegistryPrefix(' git.example.com:3000/org/sub/ ')).toEqual({
      prefix: 'git.example.com:3000/org/sub',
      host: 'git.example.com:3000',
      path: 'org/sub',
    });
    expect(parseRegistryPrefix('localhost:5000')).toEqual({
      prefix: 'localhost:5000',
      host: 'localhost:5000',
      path: '',
    });
  });

  it('names the variable it was given', () => {
    expect(() => parseRegistryPrefix('https://x.io/y', 'OTHER_VARIABLE')).toThrow(
      /^OTHER_VARIABLE="https:\/\/x\.io\/y"/,
    );
  });
});

/** Every class of invalid value, each with the reason its message must give. */
const invalid: ReadonlyArray<readonly [string, string, RegExp]> = [
  ['scheme https', 'https://ghcr.io/org', /remove the scheme/],
  ['scheme http', 'http://localhost:5000/org', /remove the scheme/],
  ['scheme oci', 'oci://registry.example.com/org', /remove the scheme/],
  ['whitespace inside (space)', 'ghcr.io/molecule ai', /whitespace/],
  ['whitespace inside (tab)', 'ghcr.io/\tacme', /whitespace/],
  ['whitespace inside (before slash)', 'ghcr.io /acme', /whitespace/],
  ['empty segment //', 'ghcr.io//acme', /empty path segment/],
  ['empty segment deeper', 'ghcr.io/acme//sub', /empty path segment/],
  ['leading slash', '/ghcr.io/acme', /starts with "\/"/],
  ['only slashes', '///', /only slashes/],
  ['uppercase in the path', 'ghcr.io/Molecule-AI', /uppercase in the path/],
  ['uppercase deeper in the path', 'ghcr.io/acme/Sub', /uppercase in the path \("Sub"\)/],
  ['uppercase host', 'GHCR.io/acme', /uppercase letters; write the host in lowercase/],
  ['port 0', 'localhost:0/acme', /port 0 is out of range/],
  ['port 65536', 'localhost:65536/acme', /port 65536 is out of range/],
  ['port 99999 on a bare host', 'registry.example.com:99999', /port 99999 is out of range/],
  ['port with leading zero', 'localhost:05000/acme', /leading zero/],
  ['empty port', 'ghcr.io:/acme', /port "" is not a number/],
  ['named port', 'ghcr.io:https/acme', /port "https" is not a number/],
  ['IPv6 port out of range', '[::1]:70000/acme', /port 70000 is out of range/],
  ['host label starting with -', '-ghcr.io/acme', /not a valid host name/],
  ['host label ending with -', 'ghcr-.io/acme', /not a valid host name/],
  ['host with empty label', 'ghcr..io/acme', /not a valid host name \(empty label\)/],
  ['host with trailing dot', 'ghcr.io./acme', /not a valid host name \(empty label\)/],
  ['host with underscore', 'bad_host.io/acme', /not a valid host name/],
  ['host label over 63 characters', `${'a'.repeat(64)}.io/acme`, /longer than 63/],
  ['unbracketed IPv6', 'fc00::1:5000/acme', /more than one ':'; write an IPv6 host in brackets/],
  ['unclosed IPv6 bracket', '[::1:5000/acme', /never closes/],
  ['IPv6 with zone', '[fe80::1%eth0]:5000/acme', /not an IPv6 address/],
  ['IPv6 with too many groups', '[1:2:3:4:5:6:7:8:9]/acme', /not an IPv6 address/],
  ['IPv6 with two ::', '[1::2::3]/acme', /not an IPv6 address/],
  ['IPv6 with a long group', '[12345::1]/acme', /not an IPv6 address/],
  ['IPv6 with junk after ]', '[::1]x/acme', /after the IPv6 address/],
  ['no registry host (org only)', 'molecule-ai', /not a registry host.*docker\.io\/molecule-ai/],
  ['no registry host (org/sub)', 'acme/sub', /"acme" is not a registry host/],
  ['Docker Hub without an organisation', 'docker.io', /name the Docker Hub organisation/],
  ['a tag', 'ghcr.io/acme/app:latest', /a tag \(":latest"\) does not belong/],
  ['a tag on the org', 'ghcr.io/acme:v1', /a tag \(":v1"\) does not belong/],
  ['a digest', `ghcr.io/acme/app@sha256:${'a'.repeat(64)}`, /a digest .* does not belong/],
  ['path component starting with -', 'ghcr.io/-acme', /path component "-acme" is invalid/],
  ['path component ending with -', 'ghcr.io/acme-', /path component "acme-" is invalid/],
  ['path component with ..', 'ghcr.io/a..b', /path component "a\.\.b" is invalid/],
  ['path component with a symbol', 'ghcr.io/a$b', /path component "a\$b" is invalid/],
  ['too long for image names', `registry.example.com/${'a'.repeat(220)}`, /too long/],
  ['an empty host before the port', ':5000/acme', /the registry host is empty/],
  [
    'a host name over 253 characters',
    `${['a', 'b', 'c'].map((c) => c.repeat(63)).join('.')}.${'d'.repeat(62)}/acme`,
    /the host name is longer than 253 characters/,
  ],
  ['the legacy Docker Hub host alone', 'index.docker.io', /name the Docker Hub organisation/],
  ['"://" inside the path (not a scheme)', 'ghcr.io/org://x', /empty path segment/],
  ['uppercase around a run of dashes', 'ghcr.io/My--Org', /uppercase in the path \("My--Org"\)/],
];

describe('the length limit', () => {
  const host = 'registry.example.com';
  const longestSuffix = Math.max(
    ...KNOWN_RUNTIMES.map((runtime) => `/workspace-template-${runtime}`.length),
  );
  const atLimit = `${host}/${'a'.repeat(NAME_MAX - longestSuffix - host.length - 1)}`;

  it('takes the longest prefix that leaves room for every runtime image name', () => {
    expect(registryPrefix(env(atLimit))).toBe(atLimit);
    for (const runtime of KNOWN_RUNTIMES) {
      const image = runtimeRepository(runtime, env(atLimit))!;
      expect(image.length).toBeLessThanOrEqual(NAME_MAX);
      expect(() => parseImageReference(image)).not.toThrow();
    }
  });

  it('refuses one character more', () => {
    expect(() => registryPrefix(env(`${atLimit}a`))).toThrow(
      /it is too long: image names would exceed 255 characters/,
    );
  });
});

describe('invalid MOLECULE_IMAGE_REGISTRY values', () => {
  it.each(invalid)('%s: %j', (_label, value, reason) => {
    let caught: unknown;
    try {
      registryPrefix(env(value));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RegistryConfigError);
    const error = caught as RegistryConfigError;
    expect(error.code).toBe('CONFIG');
    expect(error.name).toBe('RegistryConfigError');
    expect(error.variable).toBe(VAR);
    expect(error.value).toBe(value);
    expect(error.reason).toMatch(reason);
    expect(error.message).toMatch(reason);
    expect(
      error.message.startsWith(`${VAR}=${JSON.stringify(value)} is not a registry prefix: `),
    ).toBe(true);
    expect(error.message).toContain(
      'expected <host>[:port]/<path>, e.g. 123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai',
    );
  });

  it.each(invalid)('registryHost refuses it too: %s', (_label, value) => {
    expect(() => registryHost(env(value))).toThrow(RegistryConfigError);
  });

  it('reads exactly like the documented example for a scheme', () => {
    expect(() => registryPrefix(env('https://ghcr.io/org'))).toThrow(
      'MOLECULE_IMAGE_REGISTRY="https://ghcr.io/org" is not a registry prefix: remove the scheme; expected <host>[:port]/<path>, e.g. 123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai',
    );
  });

  it('keeps the raw value (with its whitespace) on the error', () => {
    const value = '  ghcr.io/Acme/ ';
    expect(() => registryPrefix(env(value))).toThrow(
      expect.objectContaining({ value, variable: VAR }) as unknown as Error,
    );
  });
});
