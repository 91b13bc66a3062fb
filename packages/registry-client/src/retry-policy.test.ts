import { describe, expect, it } from 'vitest';
import { backoffDelayMs, parseRetryAfter, resolveRetryOptions } from './retry-policy.js';

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('backoffDelayMs', () => {
  it('doubles per attempt, stays within the upper half of the step, and is capped', () => {
    const options = resolveRetryOptions({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect(backoffDelayMs(0, options, () => 0)).toBe(50);
    expect(backoffDelayMs(0, options, () => 1)).toBe(100);
    expect(backoffDelayMs(2, options, () => 0.5)).toBe(300);
    expect(backoffDelayMs(10, options, () => 1)).toBe(1000);
  });
});
