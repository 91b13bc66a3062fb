import { describe, expect, it } from 'vitest';
import { createTokenCheck } from '../src/auth.js';

describe('createTokenCheck', () => {
  const check = createTokenCheck('s3cr3t-token');
  it.each([
    ['Bearer s3cr3t-token', true],
    ['bearer s3cr3t-token', true],
    ['Bearer  s3cr3t-token ', true],
    ['Bearer s3cr3t-tokenx', false],
    ['Bearer s3cr3t-toke', false],
    ['Bearer ', false],
    ['s3cr3t-token', false],
    ['Basic s3cr3t-token', false],
    ['Bearer s3cr3t-token extra', false],
    ['', false],
  ])('%j → %s', (header, expected) => {
    expect(check(header)).toBe(expected);
  });
  it('rejects a missing header', () => {
    expect(check(undefined)).toBe(false);
  });
});
