import { describe, expect, it } from 'vitest';
import { findChallenge, parseWwwAuthenticate } from './www-authenticate.js';

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

  it('skips a stray character where a challenge should start', () => {
    expect(parseWwwAuthenticate('=Bearer realm="r"')).toEqual([
      { scheme: 'bearer', params: { realm: 'r' } },
    ]);
  });

  it('needs a space between a scheme and its credentials', () => {
    expect(parseWwwAuthenticate('Basic/abc')).toEqual([
      { scheme: 'basic', params: {} },
      { scheme: 'abc', params: {} },
    ]);
  });

  it('takes a parameter only with a name', () => {
    expect(parseWwwAuthenticate('Bearer realm="r", =x')).toEqual([
      { scheme: 'bearer', params: { realm: 'r' } },
      { scheme: 'x', params: {} },
    ]);
  });

  it('ends a challenge at a parameter not separated by a comma', () => {
    const [challenge] = parseWwwAuthenticate('Bearer realm="r" service="s"');
    expect(challenge).toEqual({ scheme: 'bearer', params: { realm: 'r' } });
  });

  it('takes an unterminated quoted string up to the end of the header', () => {
    expect(parseWwwAuthenticate('Basic realm="abc')).toEqual([
      { scheme: 'basic', params: { realm: 'abc' } },
    ]);
  });

  it.each([
    ['at the end of the header', 'Negotiate abc123', 'abc123'],
    ['with padding at the end', 'Negotiate abc==', 'abc=='],
    ['followed by spaces, then a comma', 'Negotiate abc==  , Basic', 'abc=='],
    ['followed by a tab, then a comma', 'Negotiate a.b_c~d-e=\t, Basic', 'a.b_c~d-e='],
  ])('reads a token68 %s', (_where, header, token68) => {
    expect(parseWwwAuthenticate(header)[0]).toEqual({ scheme: 'negotiate', params: {}, token68 });
  });

  it('takes name=value for a parameter, not for a token68 with text after its padding', () => {
    expect(parseWwwAuthenticate('Negotiate abc=def')).toEqual([
      { scheme: 'negotiate', params: { abc: 'def' } },
    ]);
    expect(parseWwwAuthenticate('Negotiate abc== x')[0]?.token68).toBeUndefined();
  });

  it('has no token68 when only a comma follows the scheme', () => {
    expect(parseWwwAuthenticate('Basic , Bearer realm="r"')).toEqual([
      { scheme: 'basic', params: {} },
      { scheme: 'bearer', params: { realm: 'r' } },
    ]);
    expect(parseWwwAuthenticate('Basic ')).toEqual([{ scheme: 'basic', params: {} }]);
  });
});

describe('findChallenge', () => {
  const challenges = parseWwwAuthenticate(
    'Basic realm="b", Bearer realm="first", Bearer realm="x"',
  );

  it('is the first challenge of the scheme', () => {
    expect(findChallenge(challenges, 'bearer')?.params.realm).toBe('first');
    expect(findChallenge(challenges, 'basic')?.params.realm).toBe('b');
  });

  it('is undefined when no challenge has the scheme', () => {
    expect(findChallenge(parseWwwAuthenticate('Basic realm="b"'), 'bearer')).toBeUndefined();
  });
});
