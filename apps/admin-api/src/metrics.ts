import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One prom-client registry per app instance, so tests and multiple apps never share counters. */
export interface Metrics {
  readonly registry: Registry;
  readonly refreshes: Counter<'outcome'>;
  readonly pulls: Counter<'runtime' | 'outcome'>;
  readonly containersRecreated: Counter<'runtime'>;
  readonly refreshDuration: Histogram<'outcome'>;
  readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly signatureVerifications: Counter<'outcome' | 'reason'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'admin_api_' });
  return {
    registry,
    refreshes: new Counter({
      name: 'admin_api_refreshes_total',
      help: 'Refreshes by outcome (ok, partial, engine_error, engine_unavailable; abandoned: dropped unstarted, every caller gone).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    pulls: new Counter({
      name: 'admin_api_pulls_total',
      help: 'Image pulls by runtime and outcome (ok, failed, timeout, aborted, engine_unavailable).',
      labelNames: ['runtime', 'outcome'],
      registers: [registry],
    }),
    containersRecreated: new Counter({
      name: 'admin_api_containers_recreated_total',
      help: 'ws-* containers stopped and removed for re-provisioning, by runtime.',
      labelNames: ['runtime'],
      registers: [registry],
    }),
    refreshDuration: new Histogram({
      name: 'admin_api_refresh_duration_seconds',
      help: 'Time one refresh took, queueing excluded.',
      labelNames: ['outcome'],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    signatureVerifications: new Counter({
      name: 'admin_api_signature_verifications_total',
      help: 'Signature checks before a pull, by outcome (trusted, untrusted, unsigned, error) and reason.',
      labelNames: ['outcome', 'reason'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'admin_api_http_request_duration_seconds',
      help: 'HTTP request durations by route and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
      registers: [registry],
    }),
  };
}
