import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRegistryError } from '../errors.js';
import { createCredentialResolver } from './resolver.js';

const ECR_HOST = '123456789012.dkr.ecr.us-east-2.amazonaws.com';
const basic = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-client-resolver-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ MOLECULE_IMAGE_REGISTRY: 'registry.example.com/acme', DOCKER_CONFIG: dir });
const writeAuth = (user: string) =>
  writeFile(
    join(dir, 'config.json'),
    JSON.stringify({ auths: { 'other.example.com': { auth: basic(user, 'pw') } } }),
  );

describe('createCredentialResolver: the Docker config cache', () => {
  it('reuses an answer until exactly cacheTtlMs has passed', async () => {
    let now = 10_000;
    const resolver = createCredentialResolver({ env: env(), cacheTtlMs: 1_000, now: () => now });
    await writeAuth('first');
    expect(await resolver.resolve('other.example.com')).toMatchObject({ username: 'first' });
    await writeAuth('second');
    now = 10_999;
    expect(await resolver.resolve('other.example.com')).toMatchObject({ username: 'first' });
    now = 11_000;
    expect(await resolver.resolve('other.example.com')).toMatchObject({ username: 'second' });
  });

  it('does not keep a failed read: the next call reads again', async () => {
    const now = 10_000;
    const resolver = createCredentialResolver({ env: env(), cacheTtlMs: 60_000, now: () => now });
    await writeFile(join(dir, 'config.json'), '{ broken');
    await expect(resolver.resolve('other.example.com')).rejects.toMatchObject({ code: 'CONFIG' });
    await writeAuth('fixed');
    expect(await resolver.resolve('other.example.com')).toMatchObject({ username: 'fixed' });
  });
});

describe('createCredentialResolver: ECR', () => {
  it('asks the injected ECR client for an ECR host', async () => {
    const resolver = createCredentialResolver({
      env: env(),
      ecrClientFactory: () => ({
        getAuthorizationToken: async () => ({
          $metadata: {},
          authorizationData: [{ authorizationToken: basic('AWS', 'ecr-pw') }],
        }),
      }),
    });
    expect(await resolver.resolve(ECR_HOST)).toEqual({
      kind: 'basic',
      username: 'AWS',
      password: 'ecr-pw',
      source: 'ecr',
    });
  });

  it('turns an unexpected failure into a CONFIG error that names its kind and keeps it as the cause', async () => {
    const boom = new TypeError('no client');
    const resolver = createCredentialResolver({
      env: env(),
      ecrClientFactory: () => {
        throw boom;
      },
    });
    let caught: unknown;
    try {
      await resolver.resolve(ECR_HOST);
    } catch (error) {
      caught = error;
    }
    expect(isRegistryError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'CONFIG', method: 'CREDENTIALS', host: ECR_HOST });
    expect((caught as Error).message).toBe(
      `[CREDENTIALS] "${ECR_HOST}": — resolving credentials failed (TypeError); check MOLECULE_IMAGE_REGISTRY and the Docker config`,
    );
    expect((caught as Error).cause).toBe(boom);
  });
});
