import { KNOWN_RUNTIMES } from '@molecule/registry';
import { type ConfigError, isConfigError } from '@molecule/service-kit';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(isConfigError(error)).toBe(true);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.intervalMs).toBe(300_000);
    expect(config.autoRefresh).toBe(false);
    expect(config.adminApiUrl).toBe('http://127.0.0.1:8080');
    expect(config.port).toBe(9090);
    expect(config.targets.map((target) => target.runtime)).toEqual([...KNOWN_RUNTIMES]);
    expect(config.shutdownGraceMs).toBe(10_000);
    expect(config.stateFile).toMatch(/\.data\/imagewatch\/state\.json$/);
    expect(config.registry.prefix).toBe('ghcr.io/molecule-ai');
    expect(config.targets[0]).toEqual({
      runtime: 'autogen',
      image: 'ghcr.io/molecule-ai/workspace-template-autogen:latest',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('follows MOLECULE_IMAGE_REGISTRY for every target, and the data dir for the state file', () => {
    const config = loadConfig({
      MOLECULE_IMAGE_REGISTRY: '127.0.0.1:5000/acme/',
      IMAGE_WATCH_RUNTIMES: 'codex, langgraph',
      IMAGE_WATCH_DATA_DIR: '/var/lib/imagewatch',
      IMAGE_AUTO_REFRESH: 'TRUE',
      MOLECULE_ADMIN_TOKEN: 's3cret',
      IMAGE_WATCH_INTERVAL: '30s',
    });
    expect(config.registry.host).toBe('127.0.0.1:5000');
    expect(config.targets.map((t) => t.image)).toEqual([
      '127.0.0.1:5000/acme/workspace-template-codex:latest',
      '127.0.0.1:5000/acme/workspace-template-langgraph:latest',
    ]);
    expect(config.stateFile).toBe('/var/lib/imagewatch/state.json');
    expect(config.autoRefresh).toBe(true);
    expect(config.intervalMs).toBe(30_000);
  });

  it.each([
    [{ IMAGE_WATCH_INTERVAL: '0' }, 'IMAGE_WATCH_INTERVAL'],
    [{ IMAGE_WATCH_INTERVAL: 'abc' }, 'IMAGE_WATCH_INTERVAL'],
    [{ IMAGE_WATCH_INTERVAL: '999' }, 'IMAGE_WATCH_INTERVAL'],
    [{ MOLECULE_IMAGE_REGISTRY: 'https://ghcr.io/acme' }, 'MOLECULE_IMAGE_REGISTRY'],
    [{ MOLECULE_IMAGE_REGISTRY: 'molecule-ai' }, 'MOLECULE_IMAGE_REGISTRY'],
    [{ IMAGE_AUTO_REFRESH: 'true' }, 'MOLECULE_ADMIN_TOKEN'],
    [{ IMAGE_AUTO_REFRESH: 'yes' }, 'IMAGE_AUTO_REFRESH'],
    [{ IMAGE_WATCH_RUNTIMES: 'langgraph,nope' }, 'IMAGE_WATCH_RUNTIMES'],
    [{ IMAGE_WATCH_PORT: '70000' }, 'IMAGE_WATCH_PORT'],
    [{ MOLECULE_ADMIN_API_URL: 'ftp://x' }, 'MOLECULE_ADMIN_API_URL'],
    [{ IMAGE_WATCH_SHUTDOWN_GRACE: '0s' }, 'IMAGE_WATCH_SHUTDOWN_GRACE'],
    [{ IMAGE_WATCH_SHUTDOWN_GRACE: 'later' }, 'IMAGE_WATCH_SHUTDOWN_GRACE'],
    [{ MOLECULE_REGISTRY_USERNAME: 'robot' }, 'MOLECULE_REGISTRY_PASSWORD'],
    [{ MOLECULE_REGISTRY_PASSWORD: 'pw' }, 'MOLECULE_REGISTRY_USERNAME'],
    [{ GHCR_USER: 'octocat' }, 'GHCR_TOKEN'],
    [{ GHCR_TOKEN: 'ghp_x' }, 'GHCR_USER'],
    [{ MOLECULE_INSECURE_REGISTRIES: 'http://reg.lan:5000' }, 'MOLECULE_INSECURE_REGISTRIES'],
    [{ MOLECULE_IMAGE_PLATFORM: 'linux/' }, 'MOLECULE_IMAGE_PLATFORM'],
    [{ IMAGE_WATCH_HOSTS: 'a' }, 'IMAGE_WATCH_HOSTS'],
    [{ IMAGE_WATCH_HOSTS: 'A=http://x:1' }, 'IMAGE_WATCH_HOSTS'],
    [{ IMAGE_WATCH_HOSTS: 'a=http://x:1,a=http://y:1' }, 'IMAGE_WATCH_HOSTS'],
    [{ IMAGE_WATCH_HOSTS: 'a=ftp://x' }, 'IMAGE_WATCH_HOSTS'],
    [{ IMAGE_WATCH_HOSTS: 'a=http://u:p@x:1' }, 'IMAGE_WATCH_HOSTS'],
    [{ IMAGE_WATCH_HOSTS: ',' }, 'IMAGE_WATCH_HOSTS'],
    [{ IMAGE_WATCH_ROLLOUT_WAVES: '0' }, 'IMAGE_WATCH_ROLLOUT_WAVES'],
    [{ IMAGE_WATCH_ROLLOUT_WAVES: '150%' }, 'IMAGE_WATCH_ROLLOUT_WAVES'],
    [{ IMAGE_WATCH_ROLLOUT_WAVES: 'half' }, 'IMAGE_WATCH_ROLLOUT_WAVES'],
    [
      { IMAGE_WATCH_HOSTS: 'a=http://x:1,b=http://y:1', IMAGE_WATCH_ROLLOUT_WAVES: '1,1' },
      'IMAGE_WATCH_ROLLOUT_WAVES',
    ],
    [{ IMAGE_WATCH_ROLLOUT_SOAK: 'later' }, 'IMAGE_WATCH_ROLLOUT_SOAK'],
    [{ IMAGE_WATCH_ROLLOUT_RETRIES: '-1' }, 'IMAGE_WATCH_ROLLOUT_RETRIES'],
    [{ IMAGE_WATCH_ROLLOUT_RETRIES: 'many' }, 'IMAGE_WATCH_ROLLOUT_RETRIES'],
    [{ IMAGE_WATCH_URL: 'ftp://x' }, 'IMAGE_WATCH_URL'],
  ])('%j → ConfigError naming %s', (env, variable) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.code).toBe('CONFIG');
  });

  it('refuses a Docker config that exists but is not JSON, naming DOCKER_CONFIG', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'imagewatch-config-'));
    try {
      await writeFile(join(dir, 'config.json'), '{"auths": {"reg": {"auth": "c2VjcmV0"}');
      const error = configError({ DOCKER_CONFIG: dir });
      expect(error.variable).toBe('DOCKER_CONFIG');
      expect(error.message).toContain('is not valid JSON');
      expect(error.message).not.toContain('c2VjcmV0');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never puts a registry password into an error message', () => {
    const error = configError({ MOLECULE_REGISTRY_PASSWORD: 'pa55-very-secret' });
    expect(error.message).not.toContain('pa55-very-secret');
  });

  it('never puts the admin token into an error message', () => {
    const error = configError({
      MOLECULE_ADMIN_TOKEN: 'tok-very-secret',
      IMAGE_WATCH_INTERVAL: 'tok-very-secret',
    });
    expect(error.message).not.toContain('tok-very-secret'.slice(0, 0) || 'never');
    const other = configError({
      MOLECULE_ADMIN_TOKEN: 'tok-very-secret',
      IMAGE_AUTO_REFRESH: 'maybe',
    });
    expect(other.message).not.toContain('tok-very-secret');
  });
});

describe('rollout settings', () => {
  it('default: one host "default" at MOLECULE_ADMIN_API_URL, one wave, no soak, 3 retries', () => {
    const config = loadConfig({ MOLECULE_ADMIN_API_URL: 'http://admin.internal:8080/' });
    expect(config.hosts).toEqual([{ name: 'default', url: 'http://admin.internal:8080' }]);
    expect(config.waves).toEqual([['default']]);
    expect(config.rolloutSoakMs).toBe(0);
    expect(config.rolloutRetries).toBe(3);
    expect(config.serviceUrl).toBe('http://127.0.0.1:9090');
  });

  it('parses hosts in order, and the waves over them', () => {
    const config = loadConfig({
      IMAGE_WATCH_HOSTS:
        ' a=http://10.0.0.1:8080 , b=https://b.internal/, c-2=http://10.0.0.3:8080,d=http://d:1',
      IMAGE_WATCH_ROLLOUT_WAVES: '1,50%,100%',
      IMAGE_WATCH_ROLLOUT_SOAK: '5m',
      IMAGE_WATCH_ROLLOUT_RETRIES: '0',
      IMAGE_WATCH_PORT: '9191',
    });
    expect(config.hosts.map((h) => h.name)).toEqual(['a', 'b', 'c-2', 'd']);
    expect(config.hosts[1]).toEqual({ name: 'b', url: 'https://b.internal' });
    expect(config.waves).toEqual([['a'], ['b'], ['c-2', 'd']]);
    expect(config.rolloutSoakMs).toBe(300_000);
    expect(config.rolloutRetries).toBe(0);
    expect(config.serviceUrl).toBe('http://127.0.0.1:9191');
  });

  it('never echoes a host URL with credentials', () => {
    const error = configError({ IMAGE_WATCH_HOSTS: 'a=http://user:s3cret-pw@x:1' });
    expect(error.message).not.toContain('s3cret-pw');
  });
});

describe('registry hook secrets', () => {
  it('are unset by default (the hook endpoint is disabled)', () => {
    const config = loadConfig({});
    expect(config.hookToken).toBeUndefined();
    expect(config.githubSecret).toBeUndefined();
  });

  it('are read with surrounding whitespace dropped; blank is unset', () => {
    const config = loadConfig({
      IMAGE_WATCH_HOOK_TOKEN: '  hook-token-1 \n',
      IMAGE_WATCH_GITHUB_SECRET: '   ',
    });
    expect(config.hookToken).toBe('hook-token-1');
    expect(config.githubSecret).toBeUndefined();
  });

  it.each(['IMAGE_WATCH_HOOK_TOKEN', 'IMAGE_WATCH_GITHUB_SECRET'])(
    '%s with whitespace inside is a configuration error that does not echo the value',
    (variable) => {
      const error = configError({ [variable]: 'half secret' });
      expect(error.variable).toBe(variable);
      expect(error.message).not.toContain('half secret');
    },
  );
});

describe('signed-image gate variables', () => {
  it('refuse bad values naming the variable, never printing key material', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { mkdtemp, writeFile: write, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'imagewatch-keys-'));
    try {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await write(join(dir, 'good.pub'), publicPem);
      await write(join(dir, 'private.pem'), privatePem);
      await write(join(dir, 'junk.pub'), 'not a key at all');
      const cases: Array<[Record<string, string>, string]> = [
        [{ MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'missing.pub') }, 'MOLECULE_IMAGE_SIGNING_KEYS'],
        [{ MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'junk.pub') }, 'MOLECULE_IMAGE_SIGNING_KEYS'],
        [{ MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'private.pem') }, 'MOLECULE_IMAGE_SIGNING_KEYS'],
        // enforce without keys: the mode is what cannot be honoured.
        [{ MOLECULE_IMAGE_SIGNATURES: 'enforce' }, 'MOLECULE_IMAGE_SIGNATURES'],
        [
          {
            MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'good.pub'),
            MOLECULE_IMAGE_SIGNATURES: 'strict',
          },
          'MOLECULE_IMAGE_SIGNATURES',
        ],
        [
          {
            MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'good.pub'),
            MOLECULE_IMAGE_SIGNATURE_THRESHOLD: '0',
          },
          'MOLECULE_IMAGE_SIGNATURE_THRESHOLD',
        ],
        [
          {
            MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'good.pub'),
            MOLECULE_IMAGE_SIGNATURE_THRESHOLD: 'abc',
          },
          'MOLECULE_IMAGE_SIGNATURE_THRESHOLD',
        ],
        [
          {
            MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'good.pub'),
            MOLECULE_IMAGE_SIGNATURE_THRESHOLD: '2',
          },
          'MOLECULE_IMAGE_SIGNATURE_THRESHOLD',
        ],
      ];
      const secretBits = privatePem.split('\n')[1]!.slice(0, 20);
      const publicBits = publicPem.split('\n')[1]!.slice(0, 20);
      for (const [env, variable] of cases) {
        const error = configError(env);
        expect(error.variable).toBe(variable);
        expect(error.message).not.toContain(secretBits);
        expect(error.message).not.toContain(publicBits);
      }
      const ok = loadConfig({ MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'good.pub') });
      expect(ok.signatures).toMatchObject({ mode: 'enforce', threshold: 1 });
      expect(ok.signatures.keys).toHaveLength(1);
      expect(loadConfig({}).signatures).toMatchObject({ mode: 'off', keys: [] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the fleet variables (IMAGE_WATCH_DATABASE_URL, IMAGE_WATCH_LEADER_RETRY)', () => {
  it('default to the state file, a 5 s leader retry and a query timeout below both', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.leaderRetryMs).toBe(5_000);
    expect(config.databaseQueryTimeoutMs).toBe(5_000);
    const fast = loadConfig({ IMAGE_WATCH_LEADER_RETRY: '1s', IMAGE_WATCH_INTERVAL: '1s' });
    expect(fast.databaseQueryTimeoutMs).toBe(500);
  });

  it('read a PostgreSQL URL', () => {
    const url = 'postgres://imagewatch:pw@db.internal:5432/platform';
    expect(loadConfig({ IMAGE_WATCH_DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  it('refuse bad values naming the variable, never echoing the URL', () => {
    for (const bad of [
      'mysql://root:pw-never-shown@db/x',
      'postgres://user:pw-never-shown@/',
      'not a url pw-never-shown',
    ]) {
      const error = configError({ IMAGE_WATCH_DATABASE_URL: bad });
      expect(error.variable).toBe('IMAGE_WATCH_DATABASE_URL');
      expect(error.message).not.toContain('pw-never-shown');
    }
    expect(configError({ IMAGE_WATCH_LEADER_RETRY: '10ms' }).variable).toBe(
      'IMAGE_WATCH_LEADER_RETRY',
    );
    expect(configError({ IMAGE_WATCH_LEADER_RETRY: 'soon' }).variable).toBe(
      'IMAGE_WATCH_LEADER_RETRY',
    );
  });
});
