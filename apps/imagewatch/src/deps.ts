/**
 * The real I/O clients of `imagewatch run`, built from the configuration: one registry client
 * per process (token cache, connection pools), one admin-api client per host, and the state
 * store. `buildApp` takes them as dependencies; tests pass fakes instead.
 */
import { createCredentialResolver, createRegistryClient } from '@molecule/registry-client';
import type { Logger } from '@molecule/service-kit';
import { type AdminClient, createAdminClient } from './admin-client/client.js';
import type { AppDeps } from './app.js';
import type { ImagewatchConfig } from './config.js';
import type { Metrics } from './metrics.js';
import { adminHosts } from './rollouts/hosts.js';
import { createFileStore } from './store/file-store.js';

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
  const store = createFileStore({
    file: config.stateFile,
    logger,
    onError: (operation) => metrics.stateFileErrors.inc({ operation }),
  });
  return {
    registry,
    hosts: adminHosts(clients),
    store,
    logger,
    metrics,
    async close() {
      await Promise.allSettled([registry.close(), ...[...clients.values()].map((c) => c.close())]);
    },
  };
}
