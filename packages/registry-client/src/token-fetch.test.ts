import { describe, expect, it } from 'vitest';
import { TokenResponseSchema, tokenRenewAt } from './token-fetch.js';

const now = Date.parse('2025-06-01T12:00:00Z');

describe('tokenRenewAt', () => {
  it('defaults to 60 s and floors shorter lifetimes at 60 s, minus a 10 % margin', () => {
    expect(tokenRenewAt({}, now)).toBe(now + 54_000);
    expect(tokenRenewAt({ expires_in: 5 }, now)).toBe(now + 54_000);
  });

  it('caps the renewal margin at 30 s', () => {
    expect(tokenRenewAt({ expires_in: 3600 }, now)).toBe(now + 3_570_000);
  });

  it('trusts issued_at only when it is in the past and not expired', () => {
    const tenSecondsAgo = new Date(now - 10_000).toISOString();
    expect(tokenRenewAt({ expires_in: 300, issued_at: tenSecondsAgo }, now)).toBe(
      now - 10_000 + 270_000,
    );
    const future = new Date(now + 3_600_000).toISOString();
    expect(tokenRenewAt({ expires_in: 300, issued_at: future }, now)).toBe(now + 270_000);
    const longAgo = new Date(now - 3_600_000).toISOString();
    expect(tokenRenewAt({ expires_in: 300, issued_at: longAgo }, now)).toBe(now + 270_000);
    expect(tokenRenewAt({ expires_in: 300, issued_at: 'yesterday' }, now)).toBe(now + 270_000);
  });
});

describe('TokenResponseSchema', () => {
  it('accepts token or access_token, numeric-string expires_in and nulls', () => {
    expect(TokenResponseSchema.parse({ access_token: 'a', expires_in: '300', extra: 1 })).toEqual({
      access_token: 'a',
      expires_in: 300,
    });
    expect(TokenResponseSchema.parse({ token: 't', expires_in: null }).token).toBe('t');
    expect(TokenResponseSchema.safeParse({ token: 5 }).success).toBe(false);
  });
});
