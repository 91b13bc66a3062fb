/**
 * When a replica next tries for the lock. Pure, so the timing rules are tested without a
 * database:
 *
 * - following (the lock is held elsewhere): within `retryMs`, never later — a uniform
 *   `[0.5, 1) × retryMs`, so replicas spread out and a follower takes over within
 *   IMAGE_WATCH_LEADER_RETRY of the lock being freed (SPEC "Fleet state on PostgreSQL");
 * - after errors (database unreachable): exponential from `FIRST_ERROR_BACKOFF_MS`, capped at
 *   `retryMs`, with the same jitter: quick when a blip passes, never a tight loop;
 * - just stepped down (lost the connection or the lock): `[1, 1.5) × retryMs`, so a healthy
 *   follower, trying within `retryMs`, gets there first instead of the replica that just
 *   failed (it still campaigns, and wins when it is the only one left).
 */

export const FIRST_ERROR_BACKOFF_MS = 200;
/** No wait is shorter than this, whatever `retryMs` says. */
export const MIN_CAMPAIGN_DELAY_MS = 20;

export interface CampaignDelayInput {
  readonly retryMs: number;
  /** Consecutive failed attempts (0 after an attempt that reached the database). */
  readonly failures: number;
  /** The replica stepped down since its last attempt. */
  readonly steppedDown: boolean;
  /** In [0, 1). */
  readonly random: number;
}

export function campaignDelay(input: CampaignDelayInput): number {
  const { retryMs, failures, steppedDown, random } = input;
  let ms: number;
  if (steppedDown) ms = retryMs * (1 + random * 0.5);
  else if (failures > 0) {
    const exponential = FIRST_ERROR_BACKOFF_MS * 2 ** Math.min(failures - 1, 20);
    ms = Math.min(retryMs, exponential) * (0.5 + random * 0.5);
  } else ms = retryMs * (0.5 + random * 0.5);
  return Math.max(MIN_CAMPAIGN_DELAY_MS, Math.round(ms));
}

/** How often a leader re-confirms its lock on its own (between ticks): half the retry. */
export function heartbeatDelay(retryMs: number): number {
  return Math.max(MIN_CAMPAIGN_DELAY_MS, Math.round(retryMs / 2));
}
