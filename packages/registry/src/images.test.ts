import { describe, expect, it } from 'vitest';
import { InvalidDigestError, RegistryConfigError, UnknownRuntimeError } from './errors.js';
import {
  defaultImage,
  pinnedImage,
  runtimeImage,
  runtimeImages,
  runtimeRepository,
} from './images.js';
import { parseImageReference, runtimeOfImage } from './reference.js';
import { KNOWN_RUNTIMES } from './runtimes.js';

const override = (value: string) => ({ MOLECULE_IMAGE_REGISTRY: value });
const OVERRIDES = [
  '123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai',
  'git.example.com:3000/org/sub',
  'localhost:5000',
  '[::1]:5000/acme',
] as const;
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('runtimeImage', () => {
  it.each(KNOWN_RUNTIMES)('%s under the default prefix', (runtime) => {
    expect(runtimeImage(runtime, {})).toBe(
      `ghcr.io/molecule-ai/workspace-template-${runtime}:latest`,
    );
  });

  it.each(KNOWN_RUNTIMES)('%s under an override', (runtime) => {
    expect(runtimeImage(runtime, override('localhost:5000/acme/'))).toBe(
      `localhost:5000/acme/workspace-template-${runtime}:latest`,
    );
  });

  it.each([
    'unknown',
    '',
    'Codex',
    ' codex',
    'claude_code',
    'workspace-template-codex',
    'constructor',
  ])('is undefined for the unknown runtime %j', (runtime) => {
    expect(runtimeImage(runtime, {})).toBeUndefined();
    expect(runtimeRepository(runtime, {})).toBeUndefined();
  });

  it('refuses an invalid prefix rather than falling back to ghcr.io', () => {
    expect(() => runtimeImage('codex', override('https://registry.example.com/org'))).toThrow(
      RegistryConfigError,
    );
  });
});

describe('runtimeImages', () => {
  it('lists every known runtime, in KNOWN_RUNTIMES order', () => {
    expect(Object.keys(runtimeImages({}))).toEqual([...KNOWN_RUNTIMES]);
  });

  it('matches runtimeImage for each runtime', () => {
    const images = runtimeImages({});
    for (const runtime of KNOWN_RUNTIMES) expect(images[runtime]).toBe(runtimeImage(runtime, {}));
  });

  it.each(OVERRIDES)(
    'applies the override %j to every image, leaving none on ghcr.io',
    (prefix) => {
      const images = runtimeImages(override(prefix));
      for (const runtime of KNOWN_RUNTIMES) {
        expect(images[runtime]).toBe(`${prefix}/workspace-template-${runtime}:latest`);
        expect(images[runtime]).not.toContain('ghcr.io');
      }
    },
  );

  it('returns a fresh object each call', () => {
    const first = runtimeImages({});
    first.codex = 'tampered';
    expect(runtimeImages({}).codex).toBe('ghcr.io/molecule-ai/workspace-template-codex:latest');
  });
});

describe('defaultImage', () => {
  it('is the langgraph image under the default prefix', () => {
    expect(defaultImage({})).toBe('ghcr.io/molecule-ai/workspace-template-langgraph:latest');
  });

  it('follows the override', () => {
    expect(defaultImage(override('[::1]:5000/acme'))).toBe(
      '[::1]:5000/acme/workspace-template-langgraph:latest',
    );
  });
});

describe('pinnedImage', () => {
  it.each(KNOWN_RUNTIMES)('pins %s under the default prefix', (runtime) => {
    expect(pinnedImage(runtime, DIGEST, {})).toBe(
      `ghcr.io/molecule-ai/workspace-template-${runtime}@${DIGEST}`,
    );
  });

  it.each(OVERRIDES)('pins under the override %j, replacing the tag', (prefix) => {
    const pinned = pinnedImage('codex', DIGEST, override(prefix));
    expect(pinned).toBe(`${prefix}/workspace-template-codex@${DIGEST}`);
    expect(pinned).not.toContain(':latest');
    const parsed = parseImageReference(pinned);
    expect(parsed.digest).toBe(DIGEST);
    expect(parsed.tag).toBeUndefined();
    expect(runtimeOfImage(pinned)).toBe('codex');
  });

  it.each([
    ['empty', ''],
    ['hex only, no algorithm', '0123456789abcdef'.repeat(4)],
    ['uppercase hex', `sha256:${'0123456789ABCDEF'.repeat(4)}`],
    ['uppercase algorithm', `SHA256:${'a'.repeat(64)}`],
    ['63 hex digits', `sha256:${'a'.repeat(63)}`],
    ['65 hex digits', `sha256:${'a'.repeat(65)}`],
    ['non-hex digits', `sha256:${'g'.repeat(64)}`],
    ['another algorithm', `sha512:${'a'.repeat(128)}`],
    ['surrounding whitespace', ` ${DIGEST} `],
    ['a leading @', `@${DIGEST}`],
    ['a whole reference', `ghcr.io/x@${DIGEST}`],
  ])('throws InvalidDigestError for a digest with %s', (_label, digest) => {
    let caught: unknown;
    try {
      pinnedImage('codex', digest, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidDigestError);
    const error = caught as InvalidDigestError;
    expect(error.code).toBe('INVALID_DIGEST');
    expect(error.digest).toBe(digest);
    expect(error.message).toContain(JSON.stringify(digest));
    expect(error.message).toContain('expected sha256:<64 lowercase hex digits>');
  });

  it.each([
    [
      'a sha256 digest of the wrong length',
      `sha256:${'a'.repeat(63)}`,
      'the hex part must be 64 lowercase hex digits',
    ],
    ['uppercase hex', `sha256:${'A'.repeat(64)}`, 'the hex part must be 64 lowercase hex digits'],
    ['another algorithm', `sha512:${'a'.repeat(128)}`, 'it must start with "sha256:"'],
    ['no algorithm', 'a'.repeat(64), 'it must start with "sha256:"'],
  ])('says why a digest with %s is refused', (_label, digest, reason) => {
    expect(() => pinnedImage('codex', digest, {})).toThrow(
      `${JSON.stringify(digest)} is not a valid image digest: ${reason}; `,
    );
  });

  it('throws UnknownRuntimeError for an unknown runtime', () => {
    expect(() => pinnedImage('nope', DIGEST, {})).toThrow(UnknownRuntimeError);
    expect(() => pinnedImage('nope', DIGEST, {})).toThrow(
      'unknown runtime: "nope"; expected one of autogen, claude-code, codex, crewai, deepagents, gemini-cli, hermes, langgraph, openclaw',
    );
  });
});
