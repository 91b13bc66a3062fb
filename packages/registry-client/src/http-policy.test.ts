import { RegistryConfigError } from '@molecule/registry';
import { describe, expect, it } from 'vitest';
import { createHttpPolicy, parseInsecureRegistries } from './http-policy.js';
import { isLoopbackHostname, isNonPublicAddress } from './ip-ranges.js';

describe('createHttpPolicy', () => {
  it('allows http for loopback hosts only by default', () => {
    const policy = createHttpPolicy([]);
    expect(policy.schemeFor('localhost:5000')).toBe('http');
    expect(policy.schemeFor('127.0.0.1:5000')).toBe('http');
    expect(policy.schemeFor('127.1.2.3')).toBe('http');
    expect(policy.schemeFor('[::1]:5000')).toBe('http');
    expect(policy.schemeFor('ghcr.io')).toBe('https');
    expect(policy.schemeFor('10.0.0.5:5000')).toBe('https');
    expect(policy.schemeFor('localhost.example.com')).toBe('https');
  });

  it('reads MOLECULE_INSECURE_REGISTRIES with and without ports', () => {
    const policy = createHttpPolicy(
      parseInsecureRegistries(' registry.lan:5000 , Mirror.Internal,old.lan,, [fd00::1]:5000 '),
    );
    expect(policy.schemeFor('registry.lan:5000')).toBe('http');
    expect(policy.schemeFor('registry.lan:5001')).toBe('https');
    expect(policy.schemeFor('registry.lan')).toBe('https');
    expect(policy.schemeFor('mirror.internal:8443')).toBe('http');
    expect(policy.schemeFor('mirror.internal')).toBe('http');
    expect(policy.schemeFor('old.lan')).toBe('http');
    expect(policy.schemeFor('[fd00::1]:5000')).toBe('http');
    expect(policy.schemeFor('[fd00::1]:5001')).toBe('https');
  });

  it.each([
    ['http://old.lan/', /remove the scheme/],
    ['registry.lan:5000/v2', /remove the path/],
    ['registry.lan:0', /is not host\[:port\]/],
    ['registry.lan:99999', /is not host\[:port\]/],
    ['reg lan', /is not host\[:port\]/],
    ['10.0.0.0/8', /remove the path/],
    ['-bad.lan', /is not host\[:port\]/],
  ])('refuses the malformed entry %j naming MOLECULE_INSECURE_REGISTRIES', (entry, reason) => {
    let caught: unknown;
    try {
      parseInsecureRegistries(`ok.lan,${entry}`);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RegistryConfigError);
    expect((caught as RegistryConfigError).variable).toBe('MOLECULE_INSECURE_REGISTRIES');
    expect((caught as Error).message).toMatch(reason);
  });

  it('lets credentials travel over https, or http to a qualifying host', () => {
    const policy = createHttpPolicy(parseInsecureRegistries('reg.lan:5000'));
    expect(policy.mayCarryCredentials(new URL('https://auth.example.com/token'))).toBe(true);
    expect(policy.mayCarryCredentials(new URL('http://127.0.0.1:9999/token'))).toBe(true);
    expect(policy.mayCarryCredentials(new URL('http://reg.lan:5000/token'))).toBe(true);
    expect(policy.mayCarryCredentials(new URL('http://auth.example.com/token'))).toBe(false);
    expect(policy.mayCarryCredentials(new URL('http://reg.lan:5001/token'))).toBe(false);
  });
});

describe('address classes', () => {
  it('classifies loopback, private, link-local and public addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '[::1]',
    ]) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
    for (const address of ['140.82.112.33', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isNonPublicAddress(address), address).toBe(false);
    }
    expect(isLoopbackHostname('[::1]')).toBe(true);
    expect(isLoopbackHostname('LOCALHOST')).toBe(true);
    expect(isLoopbackHostname('10.0.0.1')).toBe(false);
  });
});
