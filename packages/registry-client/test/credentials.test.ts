import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCredentialResolver, dockerRegistryAuth, isRegistryError } from '../src/index.js';
import { everythingAbout, rejectionOf } from './helpers.js';

let dir: string;
let binDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-client-creds-'));
  binDir = join(dir, 'bin');
  await import('node:fs/promises').then((fs) => fs.mkdir(binDir));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const basic = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');

async function writeConfig(config: unknown): Promise<void> {
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
}

/** A docker-credential-<name> helper that logs its stdin and answers from a table. */
async function writeHelper(
  name: string,
  table: Record<string, { Username: string; Secret: string }>,
) {
  const script = `#!/bin/sh
[ "$1" = "get" ] || { echo "unexpected $1" >&2; exit 3; }
read -r server
echo "$server" >> "${join(dir, `${name}.log`)}"
case "$server" in
${Object.entries(table)
  .map(
    ([server, creds]) =>
      `  "${server}") printf '%s' '${JSON.stringify({ ServerURL: server, ...creds })}' ;;`,
  )
  .join('\n')}
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;
  const path = join(binDir, `docker-credential-${name}`);
  await writeFile(path, script);
  await chmod(path, 0o755);
}

function envWith(extra: Record<string, string> = {}): Record<string, string> {
  return {
    MOLECULE_IMAGE_REGISTRY: 'registry.example.com/acme',
    DOCKER_CONFIG: dir,
    PATH: `${binDir}:/usr/bin:/bin`,
    ...extra,
  };
}

describe('createCredentialResolver: environment', () => {
  it('uses MOLECULE_REGISTRY_* for the configured registry host only', async () => {
    const resolver = createCredentialResolver({
      env: envWith({
        MOLECULE_REGISTRY_USERNAME: 'u',
        MOLECULE_REGISTRY_PASSWORD: 'p',
        GHCR_USER: 'g',
        GHCR_TOKEN: 't',
      }),
    });
    expect(await resolver.resolve('registry.example.com')).toEqual({
      kind: 'basic',
      username: 'u',
      password: 'p',
      source: 'env',
    });
    expect(await resolver.resolve('ghcr.io')).toEqual({ kind: 'anonymous' });
  });

  it('falls back to the legacy GHCR_USER/GHCR_TOKEN, still for the configured host only', async () => {
    const resolver = createCredentialResolver({
      env: envWith({
        MOLECULE_IMAGE_REGISTRY: '',
        GHCR_USER: 'g',
        GHCR_TOKEN: 't',
      }),
    });
    expect(await resolver.resolve('ghcr.io')).toEqual({
      kind: 'basic',
      username: 'g',
      password: 't',
      source: 'env-legacy',
    });
    expect(await resolver.resolve('registry.example.com')).toEqual({ kind: 'anonymous' });
  });

  it('prefers the environment over the Docker config', async () => {
    await writeConfig({ auths: { 'registry.example.com': { auth: basic('file', 'filepass') } } });
    const resolver = createCredentialResolver({
      env: envWith({ MOLECULE_REGISTRY_USERNAME: 'u', MOLECULE_REGISTRY_PASSWORD: 'p' }),
    });
    expect(await resolver.resolve('registry.example.com')).toMatchObject({
      username: 'u',
      source: 'env',
    });
  });
});

describe('createCredentialResolver: Docker config', () => {
  it('reads auths entries: auth, username/password, identitytoken, keys with scheme and path', async () => {
    await writeConfig({
      auths: {
        'https://registry.example.com/v1/': { auth: basic('alice', 'pa:ss') },
        'other.example.com:5000': { username: 'bob', password: 'pw' },
        'acr.example.io': {
          auth: basic('00000000-0000-0000-0000-000000000000', ''),
          identitytoken: 'refresh-tok',
        },
        'https://index.docker.io/v1/': { auth: basic('hubuser', 'hubpass') },
      },
    });
    const resolver = createCredentialResolver({ env: envWith() });
    expect(await resolver.resolve('registry.example.com')).toEqual({
      kind: 'basic',
      username: 'alice',
      password: 'pa:ss',
      source: 'docker-config',
    });
    expect(await resolver.resolve('other.example.com:5000')).toMatchObject({
      username: 'bob',
      password: 'pw',
    });
    expect(await resolver.resolve('acr.example.io')).toEqual({
      kind: 'identity-token',
      username: '00000000-0000-0000-0000-000000000000',
      identityToken: 'refresh-tok',
      source: 'docker-config',
    });
    expect(await resolver.resolve('docker.io')).toMatchObject({ username: 'hubuser' });
    expect(await resolver.resolve('unknown.example.com')).toEqual({ kind: 'anonymous' });
  });

  it('asks credHelpers[host] first, then credsStore, then auths', async () => {
    await writeHelper('special', {
      'registry.example.com': { Username: 'helper-user', Secret: 'helper-secret' },
    });
    await writeHelper('store', {
      'https://index.docker.io/v1/': { Username: 'hub', Secret: 'hub-secret' },
      'acr.example.io': { Username: '<token>', Secret: 'refresh-from-helper' },
    });
    await writeConfig({
      credHelpers: { 'registry.example.com': 'special' },
      credsStore: 'store',
      auths: { 'fallback.example.com': { auth: basic('f', 'fp') } },
    });
    const resolver = createCredentialResolver({ env: envWith() });
    expect(await resolver.resolve('registry.example.com')).toEqual({
      kind: 'basic',
      username: 'helper-user',
      password: 'helper-secret',
      source: 'credential-helper',
    });
    expect(await resolver.resolve('docker.io')).toMatchObject({
      username: 'hub',
      source: 'credential-helper',
    });
    expect(await resolver.resolve('acr.example.io')).toEqual({
      kind: 'identity-token',
      username: '',
      identityToken: 'refresh-from-helper',
      source: 'credential-helper',
    });
    expect(await resolver.resolve('fallback.example.com')).toMatchObject({
      username: 'f',
      source: 'docker-config',
    });
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(join(dir, 'store.log'), 'utf8')).split('\n')).toContain(
      'https://index.docker.io/v1/',
    );
  });

  it('reuses a helper answer for a while instead of running it per request', async () => {
    await writeHelper('store', { 'registry.example.com': { Username: 'u', Secret: 's' } });
    await writeConfig({ credsStore: 'store' });
    const resolver = createCredentialResolver({ env: envWith() });
    await Promise.all(Array.from({ length: 5 }, () => resolver.resolve('registry.example.com')));
    await resolver.resolve('registry.example.com');
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(join(dir, 'store.log'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('a missing helper is a clear CONFIG error', async () => {
    await writeConfig({ credsStore: 'nonexistent-helper' });
    const error = await rejectionOf(
      createCredentialResolver({ env: envWith() }).resolve('registry.example.com'),
    );
    expect(isRegistryError(error) && error.code).toBe('CONFIG');
    expect((error as Error).message).toContain(
      'docker-credential-nonexistent-helper not found on PATH',
    );
  });

  it('a helper that hangs times out', async () => {
    const path = join(binDir, 'docker-credential-slow');
    await writeFile(path, '#!/bin/sh\nsleep 5\n');
    await chmod(path, 0o755);
    await writeConfig({ credsStore: 'slow' });
    const error = await rejectionOf(
      createCredentialResolver({ env: envWith(), helperTimeoutMs: 200 }).resolve(
        'registry.example.com',
      ),
    );
    expect(isRegistryError(error) && error.code).toBe('TIMEOUT');
  });

  it('a config file broken after start is a CONFIG error naming the file, without its secrets', async () => {
    const resolver = createCredentialResolver({ env: envWith() });
    await writeFile(join(dir, 'config.json'), '{"auths": {"x": {"auth": "c2VjcmV0LXBhc3M="}');
    const error = await rejectionOf(resolver.resolve('registry.example.com'));
    expect(isRegistryError(error) && error.code).toBe('CONFIG');
    expect((error as Error).message).toContain(join(dir, 'config.json'));
    expect(everythingAbout(error)).not.toContain('c2VjcmV0LXBhc3M=');
  });

  it('no config file at all: anonymous', async () => {
    expect(
      await createCredentialResolver({ env: envWith() }).resolve('registry.example.com'),
    ).toEqual({
      kind: 'anonymous',
    });
  });
});

describe('dockerRegistryAuth', () => {
  it("encodes like Go's base64.URLEncoding: URL alphabet with '=' padding", () => {
    // Chosen so the standard encoding contains '+' or '/' and needs padding.
    const credential = {
      kind: 'basic',
      username: 'u>>?',
      password: 'p~~~?',
      source: 'env',
    } as const;
    const value = dockerRegistryAuth('127.0.0.1:5000', credential)!;
    expect(value).not.toMatch(/[+/]/);
    expect(value.length % 4).toBe(0);
    expect(value.endsWith('=')).toBe(true);
    expect(JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))).toEqual({
      username: 'u>>?',
      password: 'p~~~?',
      serveraddress: '127.0.0.1:5000',
    });
  });

  it('sends identity tokens as identitytoken and nothing when anonymous', () => {
    const value = dockerRegistryAuth('acr.example.io', {
      kind: 'identity-token',
      username: '',
      identityToken: 'refresh',
      source: 'docker-config',
    })!;
    expect(JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))).toEqual({
      username: '',
      identitytoken: 'refresh',
      serveraddress: 'acr.example.io',
    });
    expect(dockerRegistryAuth('ghcr.io', { kind: 'anonymous' })).toBeUndefined();
  });
});
