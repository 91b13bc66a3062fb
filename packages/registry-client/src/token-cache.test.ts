import { describe, expect, it } from 'vitest';
import { createTokenCache, tokenCacheKey } from './token-cache.js';

describe('createTokenCache', () => {
  it('shares one fetch among concurrent callers and caches the result', async () => {
    let now = 1_000;
    const cache = createTokenCache({ now: () => now });
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { token: `t${fetches}`, renewAt: now + 50_000 };
    };
    const tokens = await Promise.all(
      Array.from({ length: 1000 }, () => cache.getOrFetch('k', fetch)),
    );
    expect(fetches).toBe(1);
    expect(new Set(tokens.map((t) => t.token))).toEqual(new Set(['t1']));
    expect((await cache.getOrFetch('k', fetch)).token).toBe('t1');
    now += 50_001;
    expect((await cache.getOrFetch('k', fetch)).token).toBe('t2');
    expect(fetches).toBe(2);
  });

  it('does not cache failures and lets the next caller retry', async () => {
    const cache = createTokenCache();
    await expect(cache.getOrFetch('k', () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    const token = await cache.getOrFetch('k', async () => ({
      token: 'ok',
      renewAt: Date.now() + 1000,
    }));
    expect(token.token).toBe('ok');
  });

  it('invalidates only the refused token', async () => {
    const cache = createTokenCache();
    await cache.getOrFetch('k', async () => ({ token: 'old', renewAt: Date.now() + 60_000 }));
    cache.invalidate('k', 'other');
    expect((await cache.getOrFetch('k', async () => ({ token: 'new', renewAt: 0 }))).token).toBe(
      'old',
    );
    cache.invalidate('k', 'old');
    expect(
      (await cache.getOrFetch('k', async () => ({ token: 'new', renewAt: Date.now() + 1 }))).token,
    ).toBe('new');
  });

  it('bounds the number of entries', async () => {
    const cache = createTokenCache({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) {
      await cache.getOrFetch(`k${i}`, async () => ({ token: 't', renewAt: Date.now() + 60_000 }));
    }
    expect(cache.size).toBe(3);
  });

  it('does not use a token at its renewal time', async () => {
    let now = 1_000;
    const cache = createTokenCache({ now: () => now });
    await cache.getOrFetch('k', async () => ({ token: 'old', renewAt: 2_000 }));
    now = 1_999;
    expect(
      (await cache.getOrFetch('k', async () => ({ token: 'new', renewAt: 9_000 }))).token,
    ).toBe('old');
    now = 2_000;
    expect(
      (await cache.getOrFetch('k', async () => ({ token: 'new', renewAt: 9_000 }))).token,
    ).toBe('new');
  });
});

describe('tokenCacheKey', () => {
  it('keeps the parts apart, so shifting text between them is another key', () => {
    const key = tokenCacheKey({ realm: 'https://a/t', service: 'bc', scope: 's', identity: 'i' });
    expect(key).not.toBe(
      tokenCacheKey({ realm: 'https://a/tb', service: 'c', scope: 's', identity: 'i' }),
    );
    expect(key).toBe(
      tokenCacheKey({ realm: 'https://a/t', service: 'bc', scope: 's', identity: 'i' }),
    );
  });
});
