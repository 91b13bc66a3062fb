import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from './www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it('parses a GHCR-style bearer challenge', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://ghcr.io/token',
          service: 'ghcr.io',
          scope: 'repository:acme/app:pull',
        },
      },
    ]);
  });

  it('is case-insensitive in scheme and names, and takes parameters in any order', () => {
    const [challenge] = parseWwwAuthenticate('BEARER Service="svc", REALM="http://x/t"');
    expect(challenge?.scheme).toBe('bearer');
    expect(challenge?.params).toEqual({ service: 'svc', realm: 'http://x/t' });
  });

  it('splits several challenges in one header, including commas inside quotes', () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="a, b", Bearer realm="https://auth/t", service="s" , scope="repository:x:pull,push"',
    );
    expect(challenges.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(challenges[0]?.params.realm).toBe('a, b');
    expect(challenges[1]?.params).toEqual({
      realm: 'https://auth/t',
      service: 's',
      scope: 'repository:x:pull,push',
    });
  });

  it('unescapes quoted strings', () => {
    const [challenge] = parseWwwAuthenticate('Basic realm="say \\"hi\\" \\\\ there"');
    expect(challenge?.params.realm).toBe('say "hi" \\ there');
  });

  it('accepts unquoted token values and several header lines', () => {
    const challenges = parseWwwAuthenticate(['Basic realm=reg', 'Bearer realm="r",service=svc']);
    expect(challenges).toHaveLength(2);
    expect(challenges[0]?.params.realm).toBe('reg');
    expect(challenges[1]?.params.service).toBe('svc');
  });

  it('parses token68 and bare schemes', () => {
    const challenges = parseWwwAuthenticate('Negotiate abc+/def==, Basic, NTLM');
    expect(challenges).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'abc+/def==' },
      { scheme: 'basic', params: {} },
      { scheme: 'ntlm', params: {} },
    ]);
  });

  it('returns nothing for an empty or missing header', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate('  ,  ')).toEqual([]);
  });

  it('keeps the first of duplicated parameters', () => {
    const [challenge] = parseWwwAuthenticate('Bearer realm="first", realm="second"');
    expect(challenge?.params.realm).toBe('first');
  });
});
