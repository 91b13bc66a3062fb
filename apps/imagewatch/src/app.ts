/**
 * `buildApp(config, deps)`: imagewatch's parts wired together: the watch loop, the registry
 * hooks and the HTTP routes. Pure wiring: every I/O client comes in through `deps`, nothing
 * listens and nothing reads the environment (server.ts listens; config.ts reads the env).
 * Tests build the same graph with fakes in `deps`.
 */

import type { RegistryClient } from '@molecule/registry-client';
import { createServiceApp, type Logger } from '@molecule/service-kit';
import type { FastifyInstance } from 'fastify';
import type { AdminClient } from './admin-client/client.js';
import type { ImagewatchConfig } from './config.js';
import { classifyError } from './errors.js';
import { createHookDispatcher, type HookDispatcher } from './hooks/dispatcher.js';
import { createHookMatcher } from './hooks/matcher.js';
import { hooksRoute } from './hooks/route.js';
import type { Metrics } from './metrics.js';
import { healthRoute } from './routes/health.js';
import type { LoadOutcome, StateStore } from './watch/state-store.js';
import { createWatcher, type Watcher } from './watch/watcher.js';

export interface AppDeps {
  readonly registry: Pick<RegistryClient, 'getManifestDigest'>;
  readonly admin: Pick<AdminClient, 'refresh' | 'listImages'>;
  readonly store: StateStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** How long a registry hook waits to coalesce a burst (default 50 ms). */
  readonly hookCoalesceMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface ImagewatchApp {
  readonly http: FastifyInstance;
  readonly watcher: Watcher;
  readonly hooks: HookDispatcher;
  /** What loading the state store found. */
  readonly stateLoad: LoadOutcome;
  /** Starts the watch loop: a tick now, then one per interval. */
  start(): void;
  /**
   * Stops taking hooks and ticks; the running tick may finish until `signal` aborts, then its
   * calls are aborted. State is flushed either way.
   */
  drain(signal: AbortSignal): Promise<void>;
}

export async function buildApp(config: ImagewatchConfig, deps: AppDeps): Promise<ImagewatchApp> {
  const { logger, metrics, store } = deps;
  const stateLoad = await store.load();
  const watcher = createWatcher({
    client: deps.registry,
    admin: deps.admin,
    store,
    config,
    logger,
    metrics,
    ...(deps.now === undefined ? {} : { now: deps.now }),
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
  const hooks = createHookDispatcher({
    watcher,
    logger,
    metrics,
    ...(deps.hookCoalesceMs === undefined ? {} : { coalesceMs: deps.hookCoalesceMs }),
  });

  const http = await createServiceApp({ logger, classifyError, metrics: metrics.registry });
  await http.register(healthRoute, { watcher });
  if (config.hookToken !== undefined || config.githubSecret !== undefined) {
    await http.register(hooksRoute, {
      hookToken: config.hookToken,
      githubSecret: config.githubSecret,
      matcher: createHookMatcher({
        registryHost: config.registry.host,
        registryPrefix: config.registry.prefix,
        targets: watcher.targets,
      }),
      dispatcher: hooks,
      metrics,
      logger,
    });
  }
  await http.ready();

  return {
    http,
    watcher,
    hooks,
    stateLoad,
    start: () => watcher.start(),
    async drain(signal) {
      await hooks.close();
      await watcher.stop({ signal });
    },
  };
}
