/**
 * Prometheus metrics of imagewatch, on a registry of their own (no global state), served by
 * `GET /metrics`. Names are listed in the README.
 */
import type { RegistryRequestEvent } from '@molecule/registry-client';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type CheckOutcome = 'seeded' | 'unchanged' | 'changed' | 'untrusted' | 'error' | 'backoff';
export type RefreshOutcome = 'success' | 'failure';

export interface Metrics {
  readonly registry: Registry;
  readonly ticks: Counter<'outcome'>;
  readonly tickDuration: Histogram<string>;
  readonly checks: Counter<'runtime' | 'outcome'>;
  readonly checkErrors: Counter<'runtime' | 'code'>;
  readonly registryRequests: Counter<'host' | 'kind' | 'status'>;
  readonly digestChanges: Counter<'runtime'>;
  readonly refreshes: Counter<'runtime' | 'outcome'>;
  readonly lastSuccessfulTick: Gauge<string>;
  readonly stateFileErrors: Counter<'operation'>;
  readonly watchedReferences: Gauge<string>;
  readonly hookEvents: Counter<'source' | 'outcome'>;
  readonly hookChecksPending: Gauge<string>;
  /** Rollouts entering each state. */
  readonly rollouts: Counter<'state'>;
  readonly rolloutsHalted: Counter<'runtime'>;
  readonly hostRefreshes: Counter<'host' | 'outcome'>;
  readonly waveDuration: Histogram<'runtime'>;
  /** Digests reported untrusted (once per digest), by runtime. */
  readonly untrustedDigests: Counter<'runtime'>;
  /** Signature verifications by outcome (trusted, untrusted, unsigned, error) and reason. */
  readonly signatureVerifications: Counter<'outcome' | 'reason'>;
  /** 1 on the replica holding the leader lock, 0 elsewhere. */
  readonly leader: Gauge<string>;
  readonly leaderTakeovers: Counter<string>;
  /** Failed database operations (IMAGE_WATCH_DATABASE_URL), by operation. */
  readonly databaseErrors: Counter<'operation'>;
  /** Feed for `createRegistryClient({ onRequest })`. */
  onRegistryRequest(event: RegistryRequestEvent): void;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'imagewatch_' });
  const registers = [registry];
  const registryRequests = new Counter({
    name: 'imagewatch_registry_requests_total',
    help: 'HTTP requests to the registry, by host, kind (ping, token, manifest, blob, referrers, other) and status (or "error").',
    labelNames: ['host', 'kind', 'status'] as const,
    registers,
  });
  return {
    registry,
    ticks: new Counter({
      name: 'imagewatch_ticks_total',
      help: 'Completed ticks by outcome: success (at least one digest resolved) or failure.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    tickDuration: new Histogram({
      name: 'imagewatch_tick_duration_seconds',
      help: 'Wall time of one tick.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    checks: new Counter({
      name: 'imagewatch_checks_total',
      help: 'Digest checks by runtime and outcome (seeded, unchanged, changed, untrusted, error, backoff).',
      labelNames: ['runtime', 'outcome'] as const,
      registers,
    }),
    checkErrors: new Counter({
      name: 'imagewatch_check_errors_total',
      help: 'Failed digest checks by runtime and error code (UNAUTHORIZED, NETWORK, RATE_LIMITED, ...).',
      labelNames: ['runtime', 'code'] as const,
      registers,
    }),
    registryRequests,
    digestChanges: new Counter({
      name: 'imagewatch_digest_changes_total',
      help: 'Digest changes seen (moved, or differing from the host on first sight), by runtime.',
      labelNames: ['runtime'] as const,
      registers,
    }),
    refreshes: new Counter({
      name: 'imagewatch_refreshes_total',
      help: 'admin-api refresh calls by runtime and outcome (success, failure).',
      labelNames: ['runtime', 'outcome'] as const,
      registers,
    }),
    lastSuccessfulTick: new Gauge({
      name: 'imagewatch_last_successful_tick_timestamp_seconds',
      help: 'Unix time of the end of the last successful tick (0 before the first).',
      registers,
    }),
    stateFileErrors: new Counter({
      name: 'imagewatch_state_file_errors_total',
      help: 'State file problems by operation: load (corrupt or unreadable) or write.',
      labelNames: ['operation'] as const,
      registers,
    }),
    watchedReferences: new Gauge({
      name: 'imagewatch_watched_references',
      help: 'Number of image references watched.',
      registers,
    }),
    hookEvents: new Counter({
      name: 'imagewatch_hook_events_total',
      help: 'Registry notifications by source (distribution, github, harbor) and outcome (accepted, ignored_<reason>, unauthorized, malformed, too_large); per event for envelopes.',
      labelNames: ['source', 'outcome'] as const,
      registers,
    }),
    hookChecksPending: new Gauge({
      name: 'imagewatch_hook_checks_pending',
      help: 'Checks triggered by registry notifications that are scheduled or running.',
      registers,
    }),
    rollouts: new Counter({
      name: 'imagewatch_rollouts_total',
      help: 'Rollouts entering each state (running, halted, done, aborted, superseded, rolled_back).',
      labelNames: ['state'] as const,
      registers,
    }),
    rolloutsHalted: new Counter({
      name: 'imagewatch_rollouts_halted_total',
      help: 'Rollouts halted because a host of a wave still failed after its retries, by runtime.',
      labelNames: ['runtime'] as const,
      registers,
    }),
    hostRefreshes: new Counter({
      name: 'imagewatch_host_refreshes_total',
      help: 'Refresh calls to a host during rollouts, by host and outcome (success, failure, stale_epoch).',
      labelNames: ['host', 'outcome'] as const,
      registers,
    }),
    waveDuration: new Histogram({
      name: 'imagewatch_rollout_wave_duration_seconds',
      help: 'From the first call of a wave to its last host settled, by runtime.',
      labelNames: ['runtime'] as const,
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers,
    }),
    untrustedDigests: new Counter({
      name: 'imagewatch_untrusted_digests_total',
      help: 'Moved digests without enough valid signatures, reported once per digest, by runtime.',
      labelNames: ['runtime'] as const,
      registers,
    }),
    signatureVerifications: new Counter({
      name: 'imagewatch_signature_verifications_total',
      help: 'Signature verifications by outcome (trusted, untrusted, unsigned, error) and reason (OK, NO_SIGNATURE, UNKNOWN_KEY, DIGEST_MISMATCH, BAD_PAYLOAD, THRESHOLD_NOT_MET, or the registry error code).',
      labelNames: ['outcome', 'reason'] as const,
      registers,
    }),
    leader: new Gauge({
      name: 'imagewatch_leader',
      help: '1 on the replica holding the leader lock (it polls and rolls out), 0 elsewhere.',
      registers,
    }),
    leaderTakeovers: new Counter({
      name: 'imagewatch_leader_takeovers_total',
      help: 'Times this replica took the leader lock (each takes a new epoch).',
      registers,
    }),
    databaseErrors: new Counter({
      name: 'imagewatch_database_errors_total',
      help: 'Failed database operations of the PostgreSQL store, by operation.',
      labelNames: ['operation'] as const,
      registers,
    }),
    onRegistryRequest(event) {
      registryRequests.inc({
        host: event.host,
        kind: event.kind,
        status: event.status === undefined ? 'error' : String(event.status),
      });
    },
  };
}
