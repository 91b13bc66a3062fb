import { describe, expect, it } from 'vitest';
import { parseScopes } from './authority.js';
import { describeAuthorization, parseAuthorization } from './credentials.js';
import { tokenId } from './digest.js';
import { acceptedMediaTypes } from './negotiate.js';
import { matchRoute } from './routes.js';

describe('parseAuthorization / describeAuthorization', () => {
  it('splits Basic at the first colon and describes it without the password', () => {
    const header = `basic ${Buffer.from('user:pa:ss').toString('base64')}`;
    const auth = parseAuthorization(header);
    expect(auth).toEqual({ scheme: 'basic', username: 'user', password: 'pa:ss' });
    expect(describeAuthorization(auth)).toEqual({ scheme: 'basic', username: 'user' });
  });

  it('describes a bearer token by its short hash only', () => {
    const described = describeAuthorization(parseAuthorization('Bearer abc.def'));
    expect(described).toEqual({ scheme: 'bearer', tokenId: tokenId('abc.def') });
    expect(described.tokenId).toMatch(/^[a-f0-9]{12}$/);
    expect(JSON.stringify(described)).not.toContain('abc.def');
  });

  it('treats missing or unknown schemes as no credentials', () => {
    expect(describeAuthorization(parseAuthorization(undefined))).toEqual({ scheme: 'none' });
    expect(describeAuthorization(parseAuthorization('Negotiate xyz'))).toEqual({ scheme: 'none' });
  });
});

describe('parseScopes', () => {
  it('reads repeated and space-separated scopes', () => {
    expect(
      parseScopes(['repository:a/b:pull,push', 'repository:c:pull registry:catalog:*']),
    ).toEqual([
      { type: 'repository', name: 'a/b', actions: ['pull', 'push'] },
      { type: 'repository', name: 'c', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    expect(parseScopes(['garbage', ''])).toEqual([]);
  });
});

describe('acceptedMediaTypes', () => {
  it('splits on commas across headers and drops parameters', () => {
    expect([...acceptedMediaTypes(['A/B; q=0.5, c/d', 'E/F'])]).toEqual(['a/b', 'c/d', 'e/f']);
    expect(acceptedMediaTypes(undefined).size).toBe(0);
  });
});

describe('matchRoute', () => {
  it('maps distribution paths to routes', () => {
    expect(matchRoute('/v2/', false, true)).toEqual({ kind: 'ping' });
    expect(matchRoute('/v2/a/b/manifests/latest', false, true)).toEqual({
      kind: 'manifest',
      repository: 'a/b',
      reference: 'latest',
    });
    expect(matchRoute('/v2/a/blobs/uploads/', false, true)).toEqual({
      kind: 'blob',
      repository: 'a',
      upload: undefined,
    });
    expect(matchRoute('/v2/a/blobs/sha256:00', false, true)).toEqual({
      kind: 'blob',
      repository: 'a',
      digest: 'sha256:00',
    });
    expect(matchRoute('/token', false, true)).toEqual({ kind: 'other', name: 'unknown' });
    expect(matchRoute('/token', true, false)).toEqual({ kind: 'token' });
    expect(matchRoute('/v2/UPPER/manifests/x', false, true)).toEqual({
      kind: 'other',
      name: 'unknown',
    });
  });
});
