/**
 * Wiring of `imagewatch run`, pure of process concerns (no listening, no signals): the
 * registry client (one per process: token cache and pools), admin client, state store,
 * metrics, watcher and HTTP app. The CLI, the tests and the benchmark build it the same way.
 */
import {
  createCredentialResolver,
  createRegistryClient,
  type RegistryClient,
  type RegistryRequestEvent,
} from '@molecule/registry-client';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type AdminClient, createAdminClient } from './admin-client.js';
import type { ImagewatchConfig, WatchTarget } from './config.js';
import { createHookDispatcher, type HookDispatcher } from './hook-dispatcher.js';
import { createHookMatcher } from './hook-events.js';
import { createMetrics, type Metrics } from './metrics.js';
import { buildServer } from './server.js';
import { createStateStore, type LoadOutcome, type StateStore } from './state-store.js';
import { createWatcher, type Watcher } from './watcher.js';

export interface Service {
  readonly config: ImagewatchConfig;
  readonly watcher: Watcher;
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  readonly store: StateStore;
  readonly client: RegistryClient;
  readonly admin: AdminClient;
  readonly stateLoad: LoadOutcome;
  /** Checks triggered by `POST /hooks/registry`; `hooks.settled()` waits for them. */
  readonly hooks: HookDispatcher;
  /** Stops the watcher (grace, then abort), flushes state, closes the app and the clients. */
  close(options?: { graceMs?: number }): Promise<void>;
}

export interface ServiceOptions {
  logger: Logger;
  /** Benchmark/library path: watch these instead of `config.targets`. */
  targets?: readonly WatchTarget[];
  /** Extra observer of registry requests (benchmarks count them). */
  onRegistryRequest?: (event: RegistryRequestEvent) => void;
  defaultMetrics?: boolean;
  /** How long a registry hook waits to coalesce a burst (default 50 ms). */
  hookCoalesceMs?: number;
}

export function createRegistryClientFor(
  config: ImagewatchConfig,
  onRequest?: (event: RegistryRequestEvent) => void,
): RegistryClient {
  return createRegistryClient({
    credentials: createCredentialResolver({ env: config.env }),
    env: config.env,
    concurrencyPerHost: config.concurrency,
    ...(onRequest === undefined ? {} : { onRequest }),
  });
}

export async function createService(
  config: ImagewatchConfig,
  options: ServiceOptions,
): Promise<Service> {
  const { logger } = options;
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  const store = createStateStore({
    file: config.stateFile,
    logger,
    onError: (operation) => metrics.stateFileErrors.inc({ operation }),
  });
  const stateLoad = await store.load();
  const client = createRegistryClientFor(config, (event) => {
    metrics.onRegistryRequest(event);
    options.onRegistryRequest?.(event);
  });
  const admin = createAdminClient({
    baseUrl: config.adminApiUrl,
    token: config.adminToken,
    refreshTimeoutMs: config.refreshTimeoutMs,
  });
  const watcher = createWatcher({
    client,
    admin,
    store,
    config,
    logger,
    metrics,
    ...(options.targets === undefined ? {} : { targets: options.targets }),
  });
  const hooks = createHookDispatcher({
    watcher,
    logger,
    ...(options.hookCoalesceMs === undefined ? {} : { coalesceMs: options.hookCoalesceMs }),
  });
  const app = buildServer({
    watcher,
    metrics,
    hooks: {
      hookToken: config.hookToken,
      githubSecret: config.githubSecret,
      matcher: createHookMatcher({
        registryHost: config.registryHost,
        registryPrefix: config.registryPrefix,
        targets: watcher.targets,
      }),
      dispatcher: hooks,
      metrics,
      logger,
    },
  });
  return {
    config,
    watcher,
    app,
    metrics,
    store,
    client,
    admin,
    stateLoad,
    hooks,
    async close({ graceMs } = {}) {
      hooks.close();
      await watcher.stop(graceMs === undefined ? {} : { graceMs });
      await app.close();
      await Promise.allSettled([client.close(), admin.close()]);
    },
  };
}
