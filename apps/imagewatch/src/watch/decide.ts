/**
 * What to do with one watched reference on one tick: pure functions, no I/O. The reference
 * check gathers the facts (seen digest, remote digest, each host's local image on first sight)
 * and acts on the decision.
 *
 * Contract: the product contract (SPEC), "apps/imagewatch" and "Rollouts across hosts": seed on
 * first sight unless a host runs another digest (those hosts get a rollout, the others count as
 * done), roll out a moved digest to every host, wait for a host admin-api cannot be asked about,
 * and in monitor-only mode report a change once and record it.
 */

/** The remote side of one check. */
export type RemoteObservation =
  | { readonly kind: 'resolved'; readonly digest: string }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string };

/**
 * What one host's admin-api says about the runtime's image, asked only on first sight:
 * `absent` (the engine has no such image), `present` (with its repo digest, or `undefined`
 * when the local image has none for this repository), `unavailable` (admin-api could not be
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
  /** Each host's local image, in configured host order; only consulted on first sight. */
  readonly locals: ReadonlyMap<string, LocalObservation>;
  readonly autoRefresh: boolean;
}

export type ChangeReason = 'moved' | 'local-differs';

export type Decision =
  /** First sight: record the digest, do nothing else. */
  | { readonly action: 'seed'; readonly digest: string }
  | { readonly action: 'unchanged'; readonly digest: string }
  /**
   * Record `to` as seen and roll it out; `alreadyDone` hosts run it already (first sight).
   * `from` is the digest the hosts ran, when they agree on one.
   */
  | {
      readonly action: 'rollout';
      readonly reason: ChangeReason;
      readonly from: string | undefined;
      readonly to: string;
      readonly alreadyDone: readonly string[];
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
  const { seen, remote, locals, autoRefresh } = input;
  if (remote.kind === 'failed') {
    return {
      action: 'retry',
      reason: 'fetch-failed',
      message: `${remote.code}: ${remote.message}`,
    };
  }
  const digest = remote.digest;
  if (seen !== undefined) {
    if (seen === digest) return { action: 'unchanged', digest };
    return autoRefresh
      ? { action: 'rollout', reason: 'moved', from: seen, to: digest, alreadyDone: [] }
      : { action: 'report', reason: 'moved', from: seen, to: digest };
  }

  // First sight. Seeding without knowing what a host runs could lose an update published while
  // nothing was watching; with auto-refresh on, wait for every host's admin-api instead.
  const unavailable = [...locals].filter(([, local]) => local.kind === 'unavailable');
  if (autoRefresh && unavailable.length > 0) {
    return {
      action: 'retry',
      reason: 'local-unknown',
      message: unavailable
        .map(([host, local]) => `${host}: ${(local as { message: string }).message}`)
        .join('; '),
    };
  }
  const differing = [...locals].filter(
    ([, local]) => local.kind === 'present' && local.digest !== digest,
  );
  if (differing.length === 0) return { action: 'seed', digest };
  const digests = new Set(
    differing.map(([, local]) => (local as { digest: string | undefined }).digest),
  );
  const from = digests.size === 1 ? [...digests][0] : undefined;
  if (!autoRefresh) return { action: 'report', reason: 'local-differs', from, to: digest };
  const needing = new Set(differing.map(([host]) => host));
  return {
    action: 'rollout',
    reason: 'local-differs',
    from,
    to: digest,
    alreadyDone: [...locals.keys()].filter((host) => !needing.has(host)),
  };
}

/** True when the decision needs admin-api's view of local images first (first sight). */
export function needsLocalLookup(seen: string | undefined, remote: RemoteObservation): boolean {
  return seen === undefined && remote.kind === 'resolved';
}

/**
 * The digest to record as seen for a decision, or `undefined` to leave the state as it was.
 * A rollout records its digest when it is created: its progress lives in the rollout.
 */
export function digestToRecord(decision: Decision): string | undefined {
  switch (decision.action) {
    case 'seed':
    case 'unchanged':
      return decision.digest;
    case 'report':
    case 'rollout':
      return decision.to;
    case 'retry':
      return undefined;
  }
}

/** `sha256:0123456789ab`: the 12-hex short form used in logs and the CLI tables. */
export function shortDigest(digest: string | undefined | null): string {
  if (digest === undefined || digest === null) return 'none';
  const [algorithm, hex] = digest.split(':');
  return hex === undefined ? digest.slice(0, 19) : `${algorithm}:${hex.slice(0, 12)}`;
}
