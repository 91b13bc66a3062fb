import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRegistryConfigError, type RegistryConfigError } from '@molecule/registry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRegistrySettings } from './settings.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-settings-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({ DOCKER_CONFIG: dir, ...extra });

function refusal(values: Record<string, string>): RegistryConfigError {
  try {
    loadRegistrySettings(values);
  } catch (error) {
    expect(isRegistryConfigError(error)).toBe(true);
    return error as RegistryConfigError;
  }
  throw new Error('expected a RegistryConfigError');
}

describe('loadRegistrySettings', () => {
  it('parses every registry variable once', () => {
    const settings = loadRegistrySettings(
      env({
        MOLECULE_IMAGE_REGISTRY: 'registry.example.com:5000/acme/',
        MOLECULE_REGISTRY_USERNAME: ' robot ',
        MOLECULE_REGISTRY_PASSWORD: 'pa55',
        MOLECULE_INSECURE_REGISTRIES: 'registry.example.com:5000',
        MOLECULE_IMAGE_PLATFORM: 'linux/arm64',
      }),
    );
    expect(settings).toMatchObject({
      prefix: 'registry.example.com:5000/acme',
      host: 'registry.example.com:5000',
      platform: 'linux/arm64',
      envCredential: { kind: 'basic', username: 'robot', password: 'pa55', source: 'env' },
      insecureRegistries: [{ hostname: 'registry.example.com', port: '5000' }],
      dockerConfigPath: join(dir, 'config.json'),
    });
    expect(Object.isFrozen(settings)).toBe(true);
    expect(Object.isFrozen(settings.env)).toBe(true);
  });

  it('defaults: the upstream prefix, no credentials, nothing insecure', () => {
    expect(loadRegistrySettings(env())).toMatchObject({
      prefix: 'ghcr.io/molecule-ai',
      host: 'ghcr.io',
      envCredential: undefined,
      insecureRegistries: [],
    });
  });

  it('falls back to the legacy GHCR pair, and prefers the MOLECULE pair', () => {
    expect(
      loadRegistrySettings(env({ GHCR_USER: 'g', GHCR_TOKEN: 't' })).envCredential,
    ).toMatchObject({ username: 'g', source: 'env-legacy' });
    expect(
      loadRegistrySettings(
        env({
          GHCR_USER: 'g',
          GHCR_TOKEN: 't',
          MOLECULE_REGISTRY_USERNAME: 'u',
          MOLECULE_REGISTRY_PASSWORD: 'p',
        }),
      ).envCredential,
    ).toMatchObject({ username: 'u', source: 'env' });
  });

  it.each([
    [{ MOLECULE_REGISTRY_USERNAME: 'robot' }, 'MOLECULE_REGISTRY_PASSWORD'],
    [{ MOLECULE_REGISTRY_PASSWORD: 'hunter2-secret' }, 'MOLECULE_REGISTRY_USERNAME'],
    [
      { MOLECULE_REGISTRY_USERNAME: 'robot', MOLECULE_REGISTRY_PASSWORD: '  ' },
      'MOLECULE_REGISTRY_PASSWORD',
    ],
    [{ GHCR_USER: 'g' }, 'GHCR_TOKEN'],
    [{ GHCR_TOKEN: 'hunter2-secret' }, 'GHCR_USER'],
    // Half a legacy pair is a mistake even when the new pair is complete.
    [
      { MOLECULE_REGISTRY_USERNAME: 'robot', MOLECULE_REGISTRY_PASSWORD: 'pw', GHCR_USER: 'g' },
      'GHCR_TOKEN',
    ],
  ])('a half credential pair %j is refused, naming %s, without the secret', (values, variable) => {
    const error = refusal(env(values));
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^${variable} is not set: `));
    expect(error.message).not.toContain('hunter2-secret');
    expect(JSON.stringify(error)).not.toContain('hunter2-secret');
  });

  it('refuses a malformed MOLECULE_INSECURE_REGISTRIES entry', () => {
    const error = refusal(env({ MOLECULE_INSECURE_REGISTRIES: 'ok.lan,https://reg.lan' }));
    expect(error.variable).toBe('MOLECULE_INSECURE_REGISTRIES');
    expect(error.message).toMatch(/"https:\/\/reg.lan" is not host\[:port\] \(remove the scheme\)/);
  });

  it('refuses a Docker config that exists but is not valid JSON, without its content', async () => {
    await writeFile(join(dir, 'config.json'), '{"auths": {"x": {"auth": "c2VjcmV0LXBhc3M="}');
    const error = refusal(env());
    expect(error.variable).toBe('DOCKER_CONFIG');
    expect(error.message).toContain(`${join(dir, 'config.json')} is not valid JSON`);
    expect(error.message).not.toContain('c2VjcmV0');
  });

  it('refuses a Docker config of the wrong shape, and names HOME when DOCKER_CONFIG is unset', async () => {
    const home = join(dir, 'home');
    await writeFile(join(dir, 'config.json'), '{"auths": []}');
    expect(refusal(env()).message).toMatch(
      /has unexpected auths\/credHelpers\/credsStore entries at auths/,
    );
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(home, '.docker'), { recursive: true });
    await writeFile(join(home, '.docker', 'config.json'), 'nope');
    const error = refusal({ HOME: home });
    expect(error.variable).toBe('HOME');
  });

  it('a Docker config that does not exist is fine (anonymous or env credentials)', () => {
    expect(() => loadRegistrySettings({ DOCKER_CONFIG: join(dir, 'absent') })).not.toThrow();
  });

  it('refuses a bad MOLECULE_IMAGE_REGISTRY and MOLECULE_IMAGE_PLATFORM', () => {
    expect(refusal(env({ MOLECULE_IMAGE_REGISTRY: 'https://ghcr.io/x' })).variable).toBe(
      'MOLECULE_IMAGE_REGISTRY',
    );
    expect(refusal(env({ MOLECULE_IMAGE_PLATFORM: 'linux/' })).variable).toBe(
      'MOLECULE_IMAGE_PLATFORM',
    );
  });
});
