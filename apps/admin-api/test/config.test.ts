import { type ConfigError, isConfigError } from '@molecule/service-kit';
import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '../src/config.js';

const base = { MOLECULE_ADMIN_TOKEN: 'tok-123' };

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
  it('applies the defaults', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      adminToken: 'tok-123',
      docker: { kind: 'socket', socketPath: '/var/run/docker.sock' },
      registry: { prefix: 'ghcr.io/molecule-ai', host: 'ghcr.io', platform: '' },
      stopGraceSeconds: 10,
      shutdownGraceMs: 30_000,
      pullTimeoutMs: 600_000,
      pullConcurrency: 3,
      logLevel: 'info',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses to start without MOLECULE_ADMIN_TOKEN (missing or blank)', () => {
    expect(configError({}).variable).toBe('MOLECULE_ADMIN_TOKEN');
    expect(configError({ MOLECULE_ADMIN_TOKEN: '   ' }).variable).toBe('MOLECULE_ADMIN_TOKEN');
  });

  it('never echoes the token in the error', () => {
    const error = configError({ MOLECULE_ADMIN_TOKEN: 'has space-secretvalue x' });
    expect(error.variable).toBe('MOLECULE_ADMIN_TOKEN');
    expect(error.message).not.toContain('secretvalue');
  });

  it.each([
    ['https://ghcr.io/org'],
    ['molecule-ai'],
    ['ghcr.io/Org'],
    ['ghcr.io//x'],
    ['ghcr.io/org:tag'],
  ])('refuses an invalid MOLECULE_IMAGE_REGISTRY %s', (value) => {
    const error = configError({ ...base, MOLECULE_IMAGE_REGISTRY: value });
    expect(error.variable).toBe('MOLECULE_IMAGE_REGISTRY');
    expect(error.message).toContain('MOLECULE_IMAGE_REGISTRY');
  });

  it('follows MOLECULE_IMAGE_REGISTRY for the host', () => {
    const config = loadConfig({
      ...base,
      MOLECULE_IMAGE_REGISTRY: '123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai/',
    });
    expect(config.registry.host).toBe('123456789012.dkr.ecr.us-east-2.amazonaws.com');
    expect(config.registry.prefix).toBe('123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai');
  });

  it.each([
    ['ADMIN_API_PORT', '70000'],
    ['ADMIN_API_PORT', 'http'],
    ['ADMIN_API_STOP_GRACE_SECONDS', '-1'],
    ['ADMIN_API_PULL_TIMEOUT', 'forever'],
    ['ADMIN_API_PULL_TIMEOUT', '10'],
    ['ADMIN_API_PULL_CONCURRENCY', '0'],
    ['LOG_LEVEL', 'loud'],
    ['DOCKER_HOST', 'ssh://host'],
    ['DOCKER_HOST', 'unix://relative.sock'],
    ['ADMIN_API_SHUTDOWN_GRACE', '0s'],
    ['ADMIN_API_SHUTDOWN_GRACE', 'soon'],
    ['DOCKER_TLS_VERIFY', 'yes'],
    ['MOLECULE_INSECURE_REGISTRIES', 'https://reg.lan'],
  ])('names %s when it is %s', (variable, value) => {
    const error = configError({ ...base, [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).toContain(value);
  });

  it('parses DOCKER_HOST and durations', () => {
    expect(loadConfig({ ...base, DOCKER_HOST: 'unix:///tmp/d.sock' }).docker).toEqual({
      kind: 'socket',
      socketPath: '/tmp/d.sock',
    });
    expect(loadConfig({ ...base, DOCKER_HOST: 'tcp://10.0.0.1:2375' }).docker).toEqual({
      kind: 'tcp',
      host: '10.0.0.1',
      port: 2375,
      tls: undefined,
    });
    expect(loadConfig({ ...base, ADMIN_API_PULL_TIMEOUT: '90s' }).pullTimeoutMs).toBe(90_000);
    expect(loadConfig({ ...base, ADMIN_API_SHUTDOWN_GRACE: '1m' }).shutdownGraceMs).toBe(60_000);
  });

  it.each([
    [{ MOLECULE_REGISTRY_USERNAME: 'robot' }, 'MOLECULE_REGISTRY_PASSWORD'],
    [{ MOLECULE_REGISTRY_PASSWORD: 'pw-very-secret' }, 'MOLECULE_REGISTRY_USERNAME'],
    [{ GHCR_USER: 'octocat' }, 'GHCR_TOKEN'],
    [{ GHCR_TOKEN: 'ghp-very-secret' }, 'GHCR_USER'],
  ])('refuses a half credential pair %j, naming %s, without the secret', (env, variable) => {
    const error = configError({ ...base, ...env });
    expect(error.variable).toBe(variable);
    expect(error.message).not.toContain('very-secret');
  });

  it('reads the signed-image gate and refuses bad values naming the variable', () => {
    expect(loadConfig(base).signatures).toMatchObject({ mode: 'off', keys: [], threshold: 1 });
    expect(configError({ ...base, MOLECULE_IMAGE_SIGNATURES: 'maybe' }).variable).toBe(
      'MOLECULE_IMAGE_SIGNATURES',
    );
    // enforce without a key could trust nothing: refused at start.
    expect(configError({ ...base, MOLECULE_IMAGE_SIGNATURES: 'enforce' }).variable).toBe(
      'MOLECULE_IMAGE_SIGNATURES',
    );
    expect(
      configError({ ...base, MOLECULE_IMAGE_SIGNING_KEYS: '/nonexistent/keys.pem' }).variable,
    ).toBe('MOLECULE_IMAGE_SIGNING_KEYS');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ ...base, ADMIN_API_PORT: '' }).port).toBe(8080);
  });

  it('describeConfig leaves the token out', () => {
    const text = JSON.stringify(
      describeConfig(loadConfig({ ...base, MOLECULE_ADMIN_TOKEN: 'zz-secret' })),
    );
    expect(text).not.toContain('zz-secret');
    expect(text).toContain('ghcr.io');
  });
});
