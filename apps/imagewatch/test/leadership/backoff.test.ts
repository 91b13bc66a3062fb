import { describe, expect, it } from 'vitest';
import {
  campaignDelay,
  FIRST_ERROR_BACKOFF_MS,
  heartbeatDelay,
  MIN_CAMPAIGN_DELAY_MS,
} from '../../src/leadership/backoff.js';

const RETRY = 5_000;
const extremes = (input: { failures: number; steppedDown: boolean }) =>
  [0, 0.999999].map((random) => campaignDelay({ retryMs: RETRY, random, ...input }));

describe('campaignDelay', () => {
  it('a follower tries again within retryMs, never later, spread over its second half', () => {
    expect(extremes({ failures: 0, steppedDown: false })).toEqual([2_500, 5_000]);
  });

  it('after errors it backs off exponentially from 200 ms, capped at retryMs, jittered', () => {
    const lows = [1, 2, 3, 4, 5, 6, 10, 50].map((failures) =>
      campaignDelay({ retryMs: RETRY, failures, steppedDown: false, random: 0.999999 }),
    );
    expect(lows).toEqual([200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000]);
    expect(campaignDelay({ retryMs: RETRY, failures: 1, steppedDown: false, random: 0 })).toBe(
      FIRST_ERROR_BACKOFF_MS / 2,
    );
  });

  it('a replica that just stepped down waits at least retryMs, so a healthy follower goes first', () => {
    expect(extremes({ failures: 0, steppedDown: true })).toEqual([5_000, 7_500]);
  });

  it('never waits less than the floor, whatever retryMs says (no tight loop)', () => {
    expect(campaignDelay({ retryMs: 1, failures: 0, steppedDown: false, random: 0 })).toBe(
      MIN_CAMPAIGN_DELAY_MS,
    );
    expect(campaignDelay({ retryMs: 0, failures: 3, steppedDown: false, random: 0 })).toBe(
      MIN_CAMPAIGN_DELAY_MS,
    );
    expect(heartbeatDelay(10)).toBe(MIN_CAMPAIGN_DELAY_MS);
    expect(heartbeatDelay(RETRY)).toBe(2_500);
  });
});
