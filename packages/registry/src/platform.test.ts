import { afterEach, describe, expect, it, vi } from 'vitest';
import { RegistryConfigError } from './errors.js';
import { imagePlatform } from './platform.js';

const DARWIN_ARM64 = { platform: 'darwin', arch: 'arm64' };
const DARWIN_X64 = { platform: 'darwin', arch: 'x64' };
const LINUX_X64 = { platform: 'linux', arch: 'x64' };
const LINUX_ARM64 = { platform: 'linux', arch: 'arm64' };
const WIN32_ARM64 = { platform: 'win32', arch: 'arm64' };

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('imagePlatform', () => {
  it.each([
    ['unset on darwin/arm64 → linux/amd64', undefined, DARWIN_ARM64, 'linux/amd64'],
    ['unset on darwin/x64 → engine default', undefined, DARWIN_X64, ''],
    ['unset on linux/x64 → engine default', undefined, LINUX_X64, ''],
    ['unset on linux/arm64 → engine default', undefined, LINUX_ARM64, ''],
    ['unset on win32/arm64 → engine default', undefined, WIN32_ARM64, ''],
    ['set on darwin/arm64 wins', 'linux/arm64', DARWIN_ARM64, 'linux/arm64'],
    ['set on linux wins', 'linux/amd64', LINUX_X64, 'linux/amd64'],
    ['set with a variant', 'linux/arm64/v8', LINUX_ARM64, 'linux/arm64/v8'],
    ['set to an OS only', 'linux', LINUX_X64, 'linux'],
    ['set-empty on darwin/arm64 → engine default', '', DARWIN_ARM64, ''],
    ['set-empty on linux → engine default', '', LINUX_X64, ''],
    ['set to whitespace on darwin/arm64 → engine default', '  ', DARWIN_ARM64, ''],
    ['set with surrounding whitespace', ' linux/arm64 ', DARWIN_ARM64, 'linux/arm64'],
  ])('%s', (_label, value, host, expected) => {
    expect(imagePlatform({ MOLECULE_IMAGE_PLATFORM: value }, host)).toBe(expected);
  });

  it.each([
    'linux amd64',
    'linux/',
    '/amd64',
    'linux//amd64',
    'linux/arm64/v8/extra',
    'https://linux/amd64',
  ])('refuses %j with a RegistryConfigError naming the variable', (value) => {
    let caught: unknown;
    try {
      imagePlatform({ MOLECULE_IMAGE_PLATFORM: value }, LINUX_X64);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RegistryConfigError);
    const error = caught as RegistryConfigError;
    expect(error.variable).toBe('MOLECULE_IMAGE_PLATFORM');
    expect(error.value).toBe(value);
    expect(error.message).toContain(`MOLECULE_IMAGE_PLATFORM=${JSON.stringify(value)}`);
    expect(error.message).toContain('linux/amd64');
  });

  it('reads as one sentence: variable, value, what it is not, reason, expectation', () => {
    expect(() => imagePlatform({ MOLECULE_IMAGE_PLATFORM: 'linux amd64' }, LINUX_X64)).toThrow(
      'MOLECULE_IMAGE_PLATFORM="linux amd64" is not an image platform: not of the form os[/arch[/variant]]; expected e.g. linux/amd64 or linux/arm64/v8, or empty for the engine default',
    );
  });

  it('defaults the host to this process and the env to process.env', () => {
    vi.stubEnv('MOLECULE_IMAGE_PLATFORM', 'linux/s390x');
    expect(imagePlatform()).toBe('linux/s390x');
    const onThisHost =
      process.platform === 'darwin' && process.arch === 'arm64' ? 'linux/amd64' : '';
    expect(imagePlatform({})).toBe(onThisHost);
  });
});
