/**
 * Fencing by rollout epoch (`X-Rollout-Epoch`). Every imagewatch leader takeover increments an
 * epoch; admin-api remembers the highest one it has accepted and refuses lower ones with 409
 * `STALE_EPOCH`, so a leader that lost its lock and wakes up late changes nothing. An equal
 * epoch is accepted (the same leader's next call), and a request without one is not fenced.
 *
 * The highest epoch is kept per process: admin-api holds no other state, and after a restart
 * the current leader's next call raises it again; a stale leader cannot act in between either,
 * because it re-checks its lock before every call (see imagewatch's leadership).
 */
import { AdminApiError } from '../errors.js';

export class EpochFence {
  private highestAccepted: number | undefined;

  get highest(): number | undefined {
    return this.highestAccepted;
  }

  /** Throws 409 `STALE_EPOCH` for an epoch below the highest accepted one. */
  check(epoch: number | undefined): void {
    if (epoch === undefined || this.highestAccepted === undefined) return;
    if (epoch < this.highestAccepted) {
      throw new AdminApiError(
        'STALE_EPOCH',
        `rollout epoch ${epoch} is older than ${this.highestAccepted}: a newer imagewatch leader has taken over`,
        { details: { epoch: this.highestAccepted } },
      );
    }
  }

  /** Checks `epoch`, then remembers it when it is the highest so far. */
  accept(epoch: number | undefined): void {
    this.check(epoch);
    if (
      epoch !== undefined &&
      (this.highestAccepted === undefined || epoch > this.highestAccepted)
    ) {
      this.highestAccepted = epoch;
    }
  }
}
