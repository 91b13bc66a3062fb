/**
 * The real I/O clients of `imagewatch run`, built from the configuration: one registry client
 * per process (token cache, connection pools), one admin-api client per host, the state store
 * and the leadership: the state file and this process as the only leader, or PostgreSQL
 * (`IMAGE_WATCH_DATABASE_URL`) shared by any number of replicas, one of them the leader.
 * `buildApp` takes them as dependencies; tests pass fakes instead.
 */
import { createCredentialResolver, createRegistryClient } from '@molecule/registry-client';
import type { Logger } from '@molecule/service-kit';
import { type AdminClient, createAdminClient } from './admin-client/client.js';
import type { AppDeps } from './app.js';
import type { ImagewatchConfig } from './config.js';
import { createSoleLeadership, type Leadership } from './leadership/leadership.js';
import { createPostgresLeadership } from './leadership/postgres-leadership.js';
import type { Metrics } from './metrics.js';
import { adminHosts } from './rollouts/hosts.js';
import { createFileStore } from './store/file-store.js';
import { importStateFile } from './store/import-state-file.js';
import { createPostgresStore } from './store/postgres-store.js';
import type { WatchStore } from './store/watch-store.js';

export interface ServiceDeps extends AppDeps {
  /** Closes the clients' connection pools. */
  close(): Promise<void>;
}

export function createDeps(
  config: ImagewatchConfig,
  context: { logger: Logger; metrics: Metrics },
): ServiceDeps {
  const { logger, metrics } = context;
  const registry = createRegistryClient({
    settings: config.registry,
    credentials: createCredentialResolver({ settings: config.registry }),
    concurrencyPerHost: config.concurrency,
    onRequest: metrics.onRegistryRequest,
  });
  const clients = new Map<string, AdminClient>(
    config.hosts.map((host) => [
      host.name,
      createAdminClient({
        baseUrl: host.url,
        token: config.adminToken,
        refreshTimeoutMs: config.refreshTimeoutMs,
      }),
    ]),
  );
  const { store, leadership, onStoreOpened } = createStateDeps(config, { logger, metrics });
  return {
    registry,
    hosts: adminHosts(clients),
    store,
    leadership,
    ...(onStoreOpened === undefined ? {} : { onStoreOpened }),
    logger,
    metrics,
    async close() {
      await Promise.allSettled([registry.close(), ...[...clients.values()].map((c) => c.close())]);
    },
  };
}

/** The store and the leadership, by where the state lives. */
function createStateDeps(
  config: ImagewatchConfig,
  { logger, metrics }: { logger: Logger; metrics: Metrics },
): { store: WatchStore; leadership: Leadership; onStoreOpened?: () => Promise<void> } {
  const leadershipMetrics = { leader: metrics.leader, takeovers: metrics.leaderTakeovers };
  if (config.databaseUrl === undefined) {
    const store = createFileStore({
      file: config.stateFile,
      logger,
      onError: (operation) => metrics.stateFileErrors.inc({ operation }),
    });
    return {
      store,
      leadership: createSoleLeadership({ epoch: () => store.epoch(), metrics: leadershipMetrics }),
    };
  }
  const store = createPostgresStore({
    url: config.databaseUrl,
    logger,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
    onError: (operation) => metrics.databaseErrors.inc({ operation }),
  });
  return {
    store,
    leadership: createPostgresLeadership({
      url: config.databaseUrl,
      retryMs: config.leaderRetryMs,
      queryTimeoutMs: config.databaseQueryTimeoutMs,
      logger,
      metrics: leadershipMetrics,
      // The takeover's epoch is what this replica's refresh calls carry from now on.
      onEpoch: (epoch) => store.adoptEpoch(epoch),
    }),
    // Moving from the state file: an empty database takes the file's digests and rollouts once.
    onStoreOpened: async () => {
      await importStateFile(store, config.stateFile, { logger });
    },
  };
}
