import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRegistryError, type RegistryError } from '../errors.js';
import {
  authEntryCredential,
  credentialHelperFor,
  dockerConfigPath,
  parseDockerConfig,
  readDockerConfig,
} from './docker-config.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-client-docker-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configError(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    if (isRegistryError(error)) return error;
    throw error;
  }
  throw new Error('expected a CONFIG error');
}

const basic = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');

describe('dockerConfigPath', () => {
  it('is $DOCKER_CONFIG/config.json, else ~/.docker/config.json', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/etc/docker-x', HOME: '/home/u' })).toBe(
      '/etc/docker-x/config.json',
    );
    expect(dockerConfigPath({ HOME: '/home/u' })).toBe('/home/u/.docker/config.json');
  });
});

describe('readDockerConfig', () => {
  it('is undefined when there is no file, or a file stands where a directory should', async () => {
    expect(await readDockerConfig(join(dir, 'missing.json'))).toBeUndefined();
    await writeFile(join(dir, 'file'), '');
    expect(await readDockerConfig(join(dir, 'file', 'config.json'))).toBeUndefined();
  });

  it('is a CONFIG error, with the cause, when the file cannot be read', async () => {
    const error = await configError(readDockerConfig(dir)); // a directory: EISDIR
    expect(error.code).toBe('CONFIG');
    expect(error.method).toBe('READ');
    expect(error.message).toBe(
      `[READ] "${dir}": — Docker config cannot be read; check its permissions`,
    );
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EISDIR');
  });

  it('is a CONFIG error without a cause for a file that is not JSON', async () => {
    const path = join(dir, 'config.json');
    await writeFile(path, '{ not json');
    const error = await configError(readDockerConfig(path));
    expect(error.message).toBe(
      `[READ] "${path}": — Docker config is not valid JSON; fix or remove it`,
    );
    expect('cause' in error).toBe(false);
  });
});

describe('parseDockerConfig', () => {
  it('names where an entry is wrong, and nothing when the whole file is', () => {
    expect(parseDockerConfig('{"auths":{"ghcr.io":{"auth":1}}}')).toEqual({
      problem: 'has unexpected auths/credHelpers/credsStore entries at auths.ghcr.io.auth',
    });
    expect(parseDockerConfig('[]')).toEqual({
      problem: 'has unexpected auths/credHelpers/credsStore entries',
    });
  });
});

describe('credentialHelperFor', () => {
  it('is credHelpers[host] (any spelling of the host), else credsStore', () => {
    const config = { credHelpers: { 'https://ghcr.io': 'gh', other: '' }, credsStore: 'desktop' };
    expect(credentialHelperFor(config, 'ghcr.io')).toBe('gh');
    expect(credentialHelperFor(config, 'other')).toBe('desktop');
    expect(credentialHelperFor({ credsStore: '' }, 'ghcr.io')).toBeUndefined();
  });
});

describe('authEntryCredential', () => {
  it('refuses an auth that is not base64 of user:password, naming the entry', () => {
    const config = { auths: { 'ghcr.io': { auth: Buffer.from('nocolon').toString('base64') } } };
    expect(() => authEntryCredential(config, 'ghcr.io', '/x/config.json')).toThrow(
      '[READ] "/x/config.json": — Docker config has an auths entry for ghcr.io whose "auth" is not base64 of user:password',
    );
  });

  it('prefers auth over username/password, and takes an identity token without a username', () => {
    const config = {
      auths: {
        'a.io': { auth: basic('u', 'p:w'), username: 'x', password: 'y' },
        'b.io': { identitytoken: 'tok' },
        'c.io': { username: 'u' },
      },
    };
    expect(authEntryCredential(config, 'a.io', 'p')).toEqual({
      kind: 'basic',
      username: 'u',
      password: 'p:w',
      source: 'docker-config',
    });
    expect(authEntryCredential(config, 'b.io', 'p')).toEqual({
      kind: 'identity-token',
      username: '',
      identityToken: 'tok',
      source: 'docker-config',
    });
    expect(authEntryCredential(config, 'c.io', 'p')).toBeUndefined();
  });
});
