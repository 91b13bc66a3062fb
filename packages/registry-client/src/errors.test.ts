import { describe, expect, it } from 'vitest';
import { isRegistryError, RegistryError } from './errors.js';

describe('RegistryError', () => {
  it('reads [METHOD] "url": status text — hint, without the query', () => {
    const error = new RegistryError({
      code: 'UNAUTHORIZED',
      method: 'GET',
      target: 'https://auth.example.com/token?service=s&refresh_token=SECRET',
      host: 'auth.example.com',
      path: '/token',
      status: 401,
      statusText: 'Unauthorized',
      hint: 'check the credentials',
    });
    expect(error.message).toBe(
      '[GET] "https://auth.example.com/token": 401 Unauthorized — check the credentials',
    );
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.name).toBe('RegistryError');
    expect(JSON.stringify(error)).not.toContain('SECRET');
  });

  it('keeps the cause and is recognised across copies of the package by its brand', () => {
    const cause = new Error('socket hang up');
    const error = new RegistryError({ code: 'NETWORK', hint: 'check DNS', cause });
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('[NETWORK] — check DNS');
    expect(isRegistryError(error)).toBe(true);
    const lookalike = Object.assign(new Error('x'), { code: 'NETWORK' });
    expect(isRegistryError(lookalike)).toBe(false);
    expect(isRegistryError(undefined)).toBe(false);
  });
});
