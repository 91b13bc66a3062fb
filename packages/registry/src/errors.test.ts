import { describe, expect, it } from 'vitest';
import {
  ImageReferenceError,
  InvalidDigestError,
  isRegistryConfigError,
  isRegistryCoreError,
  RegistryConfigError,
  RegistryCoreError,
  UnknownRuntimeError,
} from './errors.js';

const config = () =>
  new RegistryConfigError({
    variable: 'MOLECULE_IMAGE_REGISTRY',
    value: 'https://ghcr.io/org',
    reason: 'remove the scheme',
    expected: '<host>[:port]/<path>',
    description: 'a registry prefix',
    cause: new Error('root'),
  });

describe('errors', () => {
  it.each([
    ['RegistryConfigError', config, 'CONFIG'],
    [
      'ImageReferenceError',
      () => new ImageReferenceError('Bad', 'must be lowercase'),
      'INVALID_REFERENCE',
    ],
    ['InvalidDigestError', () => new InvalidDigestError('sha256:x', 'too short'), 'INVALID_DIGEST'],
    ['UnknownRuntimeError', () => new UnknownRuntimeError('nope', ['codex']), 'UNKNOWN_RUNTIME'],
  ] as const)('%s has its name, a stable code and the shared base', (name, make, code) => {
    const error = make();
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(RegistryCoreError);
    expect(isRegistryCoreError(error)).toBe(true);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(String(error)).toMatch(new RegExp(`^${name}: `));
    expect(error.stack).toContain(name);
  });

  it('RegistryConfigError formats variable, value, reason and expectation in one sentence', () => {
    const error = config();
    expect(error.message).toBe(
      'MOLECULE_IMAGE_REGISTRY="https://ghcr.io/org" is not a registry prefix: remove the scheme; expected <host>[:port]/<path>',
    );
    expect(error.variable).toBe('MOLECULE_IMAGE_REGISTRY');
    expect(error.value).toBe('https://ghcr.io/org');
    expect((error.cause as Error).message).toBe('root');
  });

  it('quotes values so hidden whitespace and control characters show', () => {
    const error = new RegistryConfigError({
      variable: 'V',
      value: 'a\tb\n',
      reason: 'r',
      expected: 'e',
    });
    expect(error.message).toContain('V="a\\tb\\n"');
  });

  it('a secret value is never part of the message or the error', () => {
    const error = new RegistryConfigError({
      variable: 'MOLECULE_REGISTRY_PASSWORD',
      value: 'pa55word',
      reason: 'it is set without MOLECULE_REGISTRY_USERNAME',
      expected: 'both or neither',
      secret: true,
    });
    expect(error.message).toBe(
      'MOLECULE_REGISTRY_PASSWORD is not valid: it is set without MOLECULE_REGISTRY_USERNAME; expected both or neither',
    );
    expect(error.value).toBeUndefined();
    expect(JSON.stringify(error)).not.toContain('pa55word');
  });

  it('is recognised across copies of the package by its brand', () => {
    const copy = Object.assign(new Error('x'), {
      code: 'CONFIG',
      [Symbol.for('@molecule/registry.RegistryCoreError')]: true,
    });
    expect(isRegistryCoreError(copy)).toBe(true);
    expect(isRegistryConfigError(copy)).toBe(true);
    expect(isRegistryConfigError(new UnknownRuntimeError('x', []))).toBe(false);
    expect(isRegistryConfigError(config())).toBe(true);
  });

  it('isRegistryCoreError is false for other errors and non-errors', () => {
    expect(isRegistryCoreError(new Error('x'))).toBe(false);
    expect(isRegistryCoreError({ code: 'INVALID_REFERENCE' })).toBe(false);
    expect(isRegistryCoreError(undefined)).toBe(false);
    expect(isRegistryCoreError(null)).toBe(false);
    expect(isRegistryCoreError('CONFIG')).toBe(false);
  });

  it('a subclass that names nothing is still a RegistryCoreError by name', () => {
    class Other extends RegistryCoreError {
      readonly code = 'CONFIG' as const;
    }
    expect(new Other('x').name).toBe('RegistryCoreError');
  });

  it('has no cause at all when none is given', () => {
    const error = new RegistryConfigError({
      variable: 'V',
      value: 'x',
      reason: 'r',
      expected: 'e',
    });
    expect('cause' in error).toBe(false);
  });

  it('InvalidDigestError shows a valid digest as the example', () => {
    expect(new InvalidDigestError('sha256:x', 'too short').message).toBe(
      `"sha256:x" is not a valid image digest: too short; expected sha256:<64 lowercase hex digits>, e.g. sha256:${'0'.repeat(64)}`,
    );
  });
});
