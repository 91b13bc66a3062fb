import { describe, expect, it } from 'vitest';
import { ImageReferenceError } from './errors.js';
import { runtimeImage } from './images.js';
import {
  formatImageReference,
  type ImageReference,
  parseImageReference,
  runtimeOfImage,
} from './reference.js';
import { KNOWN_RUNTIMES } from './runtimes.js';

const F64 = 'f'.repeat(64);
const SHA256 = `sha256:${F64}`;
const SHA512 = `sha512:${'f'.repeat(128)}`;

/**
 * Cases learned from the distribution project's reference_test.go and normalize_test.go,
 * expressed as the normalised result (Docker Hub names get docker.io and library/).
 */
const valid: ReadonlyArray<readonly [string, ImageReference]> = [
  ['test_com', { domain: 'docker.io', path: 'library/test_com' }],
  ['test.com:tag', { domain: 'docker.io', path: 'library/test.com', tag: 'tag' }],
  ['test.com:5000', { domain: 'docker.io', path: 'library/test.com', tag: '5000' }],
  ['test.com/repo:tag', { domain: 'test.com', path: 'repo', tag: 'tag' }],
  ['test:5000/repo', { domain: 'test:5000', path: 'repo' }],
  ['test:5000/repo:tag', { domain: 'test:5000', path: 'repo', tag: 'tag' }],
  [`test:5000/repo@${SHA256}`, { domain: 'test:5000', path: 'repo', digest: SHA256 }],
  [
    `test:5000/repo:tag@${SHA256}`,
    { domain: 'test:5000', path: 'repo', tag: 'tag', digest: SHA256 },
  ],
  ['lowercase:Uppercase', { domain: 'docker.io', path: 'library/lowercase', tag: 'Uppercase' }],
  ['sub-dom1.foo.com/bar/baz/quux', { domain: 'sub-dom1.foo.com', path: 'bar/baz/quux' }],
  [
    'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
    { domain: 'sub-dom1.foo.com', path: 'bar/baz/quux', tag: 'some-long-tag' },
  ],
  [
    'b.gcr.io/test.example.com/my-app:test.example.com',
    { domain: 'b.gcr.io', path: 'test.example.com/my-app', tag: 'test.example.com' },
  ],
  [
    'xn--n3h.com/myimage:xn--n3h.com',
    { domain: 'xn--n3h.com', path: 'myimage', tag: 'xn--n3h.com' },
  ],
  [
    `xn--7o8h.com/myimage:xn--7o8h.com@${SHA512}`,
    { domain: 'xn--7o8h.com', path: 'myimage', tag: 'xn--7o8h.com', digest: SHA512 },
  ],
  ['foo_bar.com:8080', { domain: 'docker.io', path: 'library/foo_bar.com', tag: '8080' }],
  ['foo/foo_bar.com:8080', { domain: 'docker.io', path: 'foo/foo_bar.com', tag: '8080' }],
  ['192.168.1.1', { domain: 'docker.io', path: 'library/192.168.1.1' }],
  ['192.168.1.1:5000', { domain: 'docker.io', path: 'library/192.168.1.1', tag: '5000' }],
  ['192.168.1.1/repo', { domain: '192.168.1.1', path: 'repo' }],
  ['192.168.1.1:5000/repo:5050', { domain: '192.168.1.1:5000', path: 'repo', tag: '5050' }],
  ['[2001:db8::1]/repo', { domain: '[2001:db8::1]', path: 'repo' }],
  [
    '[2001:db8:1:2:3:4:5:6]/repo:tag',
    { domain: '[2001:db8:1:2:3:4:5:6]', path: 'repo', tag: 'tag' },
  ],
  [
    `[2001:db8::1]:5000/repo:tag@${SHA256}`,
    { domain: '[2001:db8::1]:5000', path: 'repo', tag: 'tag', digest: SHA256 },
  ],
  ['[2001:db8::]:5000/repo', { domain: '[2001:db8::]:5000', path: 'repo' }],
  ['[::1]:5000/repo', { domain: '[::1]:5000', path: 'repo' }],
  [
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    { domain: '[fc00:1:2:3:4:5:6:7]:5000', path: 'library/debian' },
  ],
  // Docker Hub normalisation
  ['busybox', { domain: 'docker.io', path: 'library/busybox' }],
  ['docker.io/foo', { domain: 'docker.io', path: 'library/foo' }],
  ['index.docker.io/foo', { domain: 'docker.io', path: 'library/foo' }],
  ['index.docker.io/docker/docker', { domain: 'docker.io', path: 'docker/docker' }],
  ['docker.io/library/foo/bar', { domain: 'docker.io', path: 'library/foo/bar' }],
  ['dmcgowan/myapp:latest', { domain: 'docker.io', path: 'dmcgowan/myapp', tag: 'latest' }],
  ['localhost/foo', { domain: 'localhost', path: 'foo' }],
  ['localhost:5000/foo/bar:v1', { domain: 'localhost:5000', path: 'foo/bar', tag: 'v1' }],
  ['localhost', { domain: 'docker.io', path: 'library/localhost' }],
  ['Docker/docker', { domain: 'Docker', path: 'docker' }],
  ['docker---rules/docker', { domain: 'docker.io', path: 'docker---rules/docker' }],
  ['dock__er/docker', { domain: 'docker.io', path: 'dock__er/docker' }],
  ['d/docker', { domain: 'docker.io', path: 'd/docker' }],
  [
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    {
      domain: 'docker.io',
      path: 'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    },
  ],
  [
    `docker.io/${'1a3f5e7d9c1b3a5f'.repeat(4)}`,
    { domain: 'docker.io', path: `library/${'1a3f5e7d9c1b3a5f'.repeat(4)}` },
  ],
  [
    `busybox:latest@sha256:${'86e0e091'.repeat(8)}`,
    {
      domain: 'docker.io',
      path: 'library/busybox',
      tag: 'latest',
      digest: `sha256:${'86e0e091'.repeat(8)}`,
    },
  ],
  // only the whole reference being 64 hex digits makes it an image ID
  [`${F64}:v1`, { domain: 'docker.io', path: `library/${F64}`, tag: 'v1' }],
  // limits
  [`a.io/${'a'.repeat(250)}`, { domain: 'a.io', path: 'a'.repeat(250) }],
  [
    `ghcr.io/acme/app:${'t'.repeat(128)}`,
    { domain: 'ghcr.io', path: 'acme/app', tag: 't'.repeat(128) },
  ],
  [
    'ghcr.io/acme/app:_private.v1-rc',
    { domain: 'ghcr.io', path: 'acme/app', tag: '_private.v1-rc' },
  ],
];

const invalid: ReadonlyArray<readonly [string, RegExp]> = [
  ['', /empty/],
  [':justtag', /repository name is missing/],
  [`@${SHA256}`, /repository name is missing/],
  ['repo@sha256:ffffffffffffffffffffffffffffffffff', /has 64 hex digits, this one has 34/],
  [`validname@invaliddigest:${F64}`, /unsupported digest algorithm "invaliddigest"/],
  [`repo@sha256:${'F'.repeat(64)}`, /lowercase/],
  ['repo@sha256:abc', /not of the form/],
  [`repo@${SHA256}@${SHA256}`, /invalid digest/],
  ['Uppercase:tag', /must be lowercase/],
  ['test:5000/Uppercase/lowercase:tag', /must be lowercase \("Uppercase"\)/],
  ['docker/Docker', /must be lowercase/],
  ['docker.io/docker/Docker', /must be lowercase/],
  [`${'a/'.repeat(128)}a:tag`, /more than 255/],
  [`a.io/${'a'.repeat(251)}`, /256 characters, more than 255/],
  [`ghcr.io/acme/app:${'t'.repeat(129)}`, /invalid tag/],
  ['ghcr.io/acme/app:-tag', /invalid tag "-tag"/],
  ['ghcr.io/acme/app:.tag', /invalid tag/],
  ['ghcr.io/acme/app:', /invalid tag ""/],
  ['aa/asdf$$^/aa', /invalid path component "asdf\$\$\^"/],
  ['[2001:db8::1]', /invalid tag/],
  ['[2001:db8::1]:5000', /invalid path component/],
  ['[2001:db8::1]:tag', /invalid path component/],
  ['[fc00::1]', /invalid tag/],
  ['[fe80::1%eth0]:5000/repo', /invalid registry host/],
  ['[fe80::1%@invalidzone]:5000/repo', /invalid/],
  ['fc00::1:5000/debian', /invalid registry host/],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', /invalid registry host/],
  ['https://github.com/docker/docker', /invalid registry host "https:"/],
  ['-docker', /invalid path component "-docker"/],
  ['-docker/docker', /invalid path component "-docker"/],
  ['-docker.io/docker/docker', /invalid registry host "-docker\.io"/],
  ['docker-/docker', /invalid path component "docker-"/],
  ['-docker-/docker', /invalid path component/],
  ['docker///docker', /empty path component/],
  ['docker.io/docker///docker', /empty path component/],
  ['docker/', /empty path component/],
  ['____/____', /invalid path component/],
  ['_docker/_docker', /invalid path component/],
  // a first component with "." is taken as the registry host, then fails the host grammar
  ['dock..er/docker', /invalid registry host "dock\.\.er"/],
  ['dock_.er/docker', /invalid registry host/],
  ['dock-.er/docker', /invalid registry host/],
  ['ghcr.io/dock..er', /invalid path component "dock\.\.er"/],
  ['ghcr.io/dock_.er', /invalid path component/],
  ['ghcr.io/dock-.er', /invalid path component/],
  ['1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', /64-hex image ID/],
  [`repo@1sha256:${F64}`, /invalid digest: not of the form/],
  ['ghcr.io/acme app', /invalid path component/],
  [' ghcr.io/acme/app', /invalid registry host/],
];

describe('parseImageReference', () => {
  it.each(valid)('parses %j', (input, expected) => {
    expect(parseImageReference(input)).toStrictEqual(expected);
  });

  it('has no tag (not even "latest") when none is written', () => {
    const parsed = parseImageReference('ghcr.io/molecule-ai/workspace-template-codex');
    expect('tag' in parsed).toBe(false);
    expect('digest' in parsed).toBe(false);
  });

  it.each(invalid)('rejects %j', (input, reason) => {
    let caught: unknown;
    try {
      parseImageReference(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ImageReferenceError);
    const error = caught as ImageReferenceError;
    expect(error.code).toBe('INVALID_REFERENCE');
    expect(error.name).toBe('ImageReferenceError');
    expect(error.reference).toBe(input);
    expect(error.reason).toMatch(reason);
    expect(error.message).toContain(`${JSON.stringify(input)} is not a valid image reference: `);
  });

  it.each(valid.filter(([input]) => input.includes('/') && !input.startsWith('index.')))(
    'formats %j back to its canonical form',
    (_input, parsed) => {
      expect(parseImageReference(formatImageReference(parsed))).toStrictEqual(parsed);
    },
  );

  it('formats all parts in order', () => {
    expect(
      formatImageReference({ domain: '[::1]:5000', path: 'a/b', tag: 'v1', digest: SHA256 }),
    ).toBe(`[::1]:5000/a/b:v1@${SHA256}`);
  });
});

describe('runtimeOfImage', () => {
  it.each([
    ['ghcr.io/molecule-ai/workspace-template-claude-code:latest', 'claude-code'],
    [`127.0.0.1:5000/acme/workspace-template-codex@${SHA256}`, 'codex'],
    [`[::1]:5000/a/b/workspace-template-openclaw:v2@${SHA256}`, 'openclaw'],
    ['localhost:5000/workspace-template-langgraph', 'langgraph'],
    [
      '123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai/workspace-template-hermes:2024-05-01',
      'hermes',
    ],
    ['workspace-template-gemini-cli', 'gemini-cli'],
    ['docker.io/acme/workspace-template-crewai:latest', 'crewai'],
  ] as const)('%j → %s', (ref, runtime) => {
    expect(runtimeOfImage(ref)).toBe(runtime);
  });

  it.each([
    ['a suffixed name', 'ghcr.io/molecule-ai/workspace-template-claude-code-default:latest'],
    ['a prefixed name', 'ghcr.io/molecule-ai/my-workspace-template-codex:latest'],
    // as long as the template prefix, so only the prefix check tells it apart
    ['another prefix of the same length', 'ghcr.io/molecule-ai/my-images-template-codex:latest'],
    ['not the last component', 'ghcr.io/molecule-ai/workspace-template-codex/extra:latest'],
    ['an unknown runtime', 'ghcr.io/molecule-ai/workspace-template-unknown:latest'],
    ['no runtime', 'ghcr.io/molecule-ai/workspace-template-:latest'],
    ['the runtime as a tag', 'ghcr.io/molecule-ai/workspace-template:codex'],
    ['the runtime alone', 'ghcr.io/molecule-ai/codex:latest'],
    ['uppercase (unparsable)', 'ghcr.io/molecule-ai/workspace-template-Codex'],
    ['an image ID', `sha256:${F64}`],
    ['a bare image ID', F64],
    ['empty', ''],
    ['garbage', 'not a reference'],
  ])('is undefined for %s', (_label, ref) => {
    expect(runtimeOfImage(ref)).toBeUndefined();
  });

  const prefixes = [undefined, 'localhost:5000', '[::1]:5000/acme', 'git.example.com:3000/org/sub'];
  it.each(prefixes)('recognises every runtimeImage under prefix %j', (prefix) => {
    for (const runtime of KNOWN_RUNTIMES) {
      expect(runtimeOfImage(runtimeImage(runtime, { MOLECULE_IMAGE_REGISTRY: prefix })!)).toBe(
        runtime,
      );
    }
  });
});
