/**
 * What imagewatch remembers, behind one interface: the digest last seen per reference, the
 * rollouts with their per-host progress, and the fencing epoch. Two implementations: the state
 * file (file-store.ts, the embedded default) and PostgreSQL (postgres-store.ts, any number of
 * replicas). Every write resolves once it is durable (or the store reports itself degraded),
 * and a change to seen digests and rollouts that belongs together is one `commit`.
 */
import type { Rollout, RolloutState } from '../rollouts/rollout.js';

export interface SeenDigest {
  readonly digest: string;
  readonly seenAt: string;
}

export type StoreOpenOutcome =
  | { readonly kind: 'loaded'; readonly images: number; readonly rollouts: number }
  | { readonly kind: 'fresh' }
  /** A file that could not be used was moved aside (kept for a human) and rebuilt. */
  | { readonly kind: 'recovered'; readonly movedTo: string; readonly reason: string }
  /** A file that could not be used could not be moved aside either: it is left untouched. */
  | { readonly kind: 'read-only'; readonly reason: string };

/** Healthy, or degraded with the reason (a write that keeps failing, a read-only state file). */
export interface StoreHealth {
  readonly ok: boolean;
  readonly reason?: string;
}

export interface RolloutFilter {
  readonly runtime?: string;
  readonly state?: RolloutState;
  readonly limit?: number;
}

export interface StoreCommit {
  /** Record this digest as seen for this reference. */
  readonly seen?: { readonly image: string; readonly digest: string };
  readonly create?: readonly Rollout[];
  /**
   * Replace these rollouts; each only if the stored one is still the version it was made
   * from (`version - 1`), else nothing of the commit is written and `commit` resolves false.
   */
  readonly update?: readonly Rollout[];
}

export interface WatchStore {
  /** Loads (and, for a database, migrates) the store; a new epoch is taken here. */
  open(): Promise<StoreOpenOutcome>;
  /** The fencing epoch this process acts under (`X-Rollout-Epoch`). */
  epoch(): number;
  seenDigest(image: string): Promise<SeenDigest | undefined>;
  /** Applies the commit at once (all or nothing); false on a version conflict. */
  commit(change: StoreCommit): Promise<boolean>;
  getRollout(id: string): Promise<Rollout | undefined>;
  /** Newest first. */
  listRollouts(filter?: RolloutFilter): Promise<Rollout[]>;
  /** Rollouts that are running or halted, oldest first. */
  activeRollouts(): Promise<Rollout[]>;
  health(): StoreHealth;
  /** Where the state lives, for logs (a path, or the database without credentials). */
  describe(): string;
  close(): Promise<void>;
}

/** How many finished rollouts a store keeps (active ones are always kept). */
export const KEEP_FINISHED_ROLLOUTS = 200;
