import { describe, expect, it } from 'vitest';
import { isRegistryError } from './errors.js';
import { createHttpPolicy, parseInsecureRegistries } from './http-policy.js';
import { checkTokenRealm, type LookupAll } from './realm-guard.js';

const dns: Record<string, string[]> = {
  'registry.example.com': ['140.82.112.33'],
  'auth.example.com': ['140.82.112.34'],
  'evil.example.com': ['169.254.169.254'],
  'sneaky.example.com': ['140.82.112.35', '10.0.0.7'],
  'corp-registry.internal': ['10.1.2.3'],
  'corp-auth.internal': ['10.1.2.4'],
};
const lookup: LookupAll = async (hostname) => {
  const addresses = dns[hostname];
  if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return addresses;
};
const check = (registryHost: string, realm: string, env: Record<string, string> = {}) =>
  checkTokenRealm({
    registryHost,
    realm: new URL(realm),
    policy: createHttpPolicy(parseInsecureRegistries(env.MOLECULE_INSECURE_REGISTRIES)),
    lookup,
  });

describe('checkTokenRealm (SSRF rule)', () => {
  it('allows public realms and the registry host itself', async () => {
    await expect(
      check('registry.example.com', 'https://auth.example.com/token'),
    ).resolves.toBeUndefined();
    await expect(
      check('registry.example.com', 'https://registry.example.com/token'),
    ).resolves.toBeUndefined();
  });

  it.each([
    'https://evil.example.com/token',
    'https://sneaky.example.com/token',
    'http://127.0.0.1:8080/token',
    'http://localhost/token',
    'https://[::1]/token',
    'https://169.254.169.254/latest/meta-data',
  ])('refuses %s for a public registry', async (realm) => {
    const error = await check('registry.example.com', realm).catch((e) => e);
    expect(isRegistryError(error) && error.code).toBe('CONFIG');
    expect(error.message).toContain('loopback, private or link-local');
  });

  it('does not restrict private, loopback or insecure-listed registries', async () => {
    await expect(
      check('corp-registry.internal', 'https://corp-auth.internal/token'),
    ).resolves.toBeUndefined();
    await expect(check('127.0.0.1:5000', 'http://127.0.0.1:5001/token')).resolves.toBeUndefined();
    await expect(
      check('registry.example.com', 'http://10.0.0.9/token', {
        MOLECULE_INSECURE_REGISTRIES: 'registry.example.com',
      }),
    ).resolves.toBeUndefined();
  });
});
