/**
 * What to do with one watched reference on one tick: pure functions, no I/O. The watcher
 * gathers the facts (seen digest, remote digest, local image) and acts on the decision.
 *
 * Contract: the product contract (SPEC), "apps/imagewatch" — seed on first sight unless the host runs a different
 * digest, refresh on a move, keep the old seen digest when a refresh fails, report only in
 * monitor-only mode.
 */

/** The remote side of one check. */
export type RemoteObservation =
  | { readonly kind: 'resolved'; readonly digest: string }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string };

/**
 * What admin-api says about the image on the host, asked only on first sight:
 * `absent` (engine has no such image), `present` (with the repo digest, or `undefined` when
 * the local image has none for this repository), `unavailable` (admin-api could not be
 * asked), `not-asked` (no token configured in monitor-only mode).
 */
export type LocalObservation =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present'; readonly digest: string | undefined }
  | { readonly kind: 'unavailable'; readonly message: string }
  | { readonly kind: 'not-asked' };

export interface DecisionInput {
  /** Digest persisted for this exact reference, `undefined` on first sight. */
  readonly seen: string | undefined;
  readonly remote: RemoteObservation;
  /** Only consulted on first sight. */
  readonly local: LocalObservation;
  readonly autoRefresh: boolean;
}

export type ChangeReason = 'moved' | 'local-differs';

export type Decision =
  /** First sight: record the digest, do nothing else. */
  | { readonly action: 'seed'; readonly digest: string }
  | { readonly action: 'unchanged'; readonly digest: string }
  /** Ask admin-api to refresh; record `to` only when the refresh succeeds. */
  | {
      readonly action: 'refresh';
      readonly reason: ChangeReason;
      readonly from: string | undefined;
      readonly to: string;
    }
  /** Monitor-only: report the change once and record `to`. */
  | {
      readonly action: 'report';
      readonly reason: ChangeReason;
      readonly from: string | undefined;
      readonly to: string;
    }
  /** Nothing is recorded; the next tick tries again. */
  | {
      readonly action: 'retry';
      readonly reason: 'fetch-failed' | 'local-unknown';
      readonly message: string;
    };

/** Decides one reference's fate for this tick. */
export function decide(input: DecisionInput): Decision {
  const { seen, remote, local, autoRefresh } = input;
  if (remote.kind === 'failed') {
    return {
      action: 'retry',
      reason: 'fetch-failed',
      message: `${remote.code}: ${remote.message}`,
    };
  }
  const digest = remote.digest;

  if (seen === undefined) {
    const localDigestDiffers =
      local.kind === 'present' && (local.digest === undefined || local.digest !== digest);
    if (localDigestDiffers) {
      return autoRefresh
        ? { action: 'refresh', reason: 'local-differs', from: local.digest, to: digest }
        : { action: 'report', reason: 'local-differs', from: local.digest, to: digest };
    }
    // Seeding without knowing the host's digest could lose an update published while nothing
    // was watching; with auto-refresh on, wait for admin-api instead.
    if (local.kind === 'unavailable' && autoRefresh) {
      return { action: 'retry', reason: 'local-unknown', message: local.message };
    }
    return { action: 'seed', digest };
  }

  if (seen === digest) return { action: 'unchanged', digest };
  return autoRefresh
    ? { action: 'refresh', reason: 'moved', from: seen, to: digest }
    : { action: 'report', reason: 'moved', from: seen, to: digest };
}

/** True when the decision needs admin-api's view of local images first (first sight). */
export function needsLocalLookup(seen: string | undefined, remote: RemoteObservation): boolean {
  return seen === undefined && remote.kind === 'resolved';
}

/**
 * The digest to persist after acting on a decision, or `undefined` to leave the state as it
 * was (a failed refresh keeps the old digest so the next tick retries).
 */
export function digestToRecord(decision: Decision, refreshSucceeded: boolean): string | undefined {
  switch (decision.action) {
    case 'seed':
    case 'unchanged':
      return decision.digest;
    case 'report':
      return decision.to;
    case 'refresh':
      return refreshSucceeded ? decision.to : undefined;
    case 'retry':
      return undefined;
  }
}

/** `sha256:0123456789ab` — the 12-hex short form used in logs and the CLI table. */
export function shortDigest(digest: string | undefined): string {
  if (digest === undefined) return 'none';
  const [algorithm, hex] = digest.split(':');
  return hex === undefined ? digest.slice(0, 19) : `${algorithm}:${hex.slice(0, 12)}`;
}
