/** Bearer tokens: every comparison with a secret goes through `timingSafeEqual` on equal lengths. */
import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { isBearerAuthorized, parseBearerToken, safeEqual } from './bearer.js';

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

const TOKEN = 's3cr3t-token';

beforeEach(() => {
  timingSafeEqual.mockClear();
});

describe('isBearerAuthorized', () => {
  it.each([
    [`Bearer ${TOKEN}`, true],
    [`bearer ${TOKEN}`, true],
    [`BEARER  ${TOKEN} `, true],
    [`Bearer ${TOKEN}x`, false],
    [`Bearer ${TOKEN.slice(0, -1)}`, false],
    [`Bearer ${TOKEN.toUpperCase()}`, false],
    ['Bearer ', false],
    [`Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, false],
    [TOKEN, false],
    [`Bearer ${TOKEN} extra`, false],
    ['', false],
    [undefined, false],
  ])('%j → %s', (header, expected) => {
    expect(isBearerAuthorized(header, TOKEN)).toBe(expected);
    // Compared in constant time, even when the header is malformed.
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
    const [a, b] = timingSafeEqual.mock.calls[0]!;
    expect((a as Buffer).length).toBe(32);
    expect((b as Buffer).length).toBe(32);
  });
});

describe('parseBearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc  ', 'abc'],
    ['Bearer', undefined],
    ['Basic abc', undefined],
    [undefined, undefined],
  ])('%j → %s', (header, token) => {
    expect(parseBearerToken(header)).toBe(token);
  });
});

describe('safeEqual', () => {
  it('compares by value whatever the lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'abc')).toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(3);
  });
});
