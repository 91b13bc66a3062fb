import { describe, expect, it } from 'vitest';
import { createReferrersSupport } from './referrers-support.js';

describe('createReferrersSupport', () => {
  it('remembers a host without the referrers API until the memo expires', () => {
    let now = 1_000;
    const support = createReferrersSupport({ ttlMs: 60_000, now: () => now });
    expect(support.knownAbsent('registry.example.com')).toBe(false);
    support.markAbsent('registry.example.com');
    expect(support.knownAbsent('registry.example.com')).toBe(true);
    expect(support.knownAbsent('mirror.example.com')).toBe(false);
    now += 59_999;
    expect(support.knownAbsent('registry.example.com')).toBe(true);
    now += 1;
    expect(support.knownAbsent('registry.example.com')).toBe(false);
  });
});
