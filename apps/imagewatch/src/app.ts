/**
 * `buildApp(config, deps)`: imagewatch's parts wired together: the state store, the rollout
 * engine, the watch loop, the registry hooks and the HTTP routes. Pure wiring: every I/O
 * client comes in through `deps`, nothing listens and nothing reads the environment
 * (server.ts listens; config.ts reads the env). Tests build the same graph with fakes.
 */
import { createSignatureVerifier, type SignatureVerifier } from '@molecule/image-signatures';
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
import { createRolloutEngine, type RolloutEngine } from './rollouts/engine.js';
import type { AdminHosts } from './rollouts/hosts.js';
import { healthRoute } from './routes/health.js';
import { rolloutsRoute } from './routes/rollouts.js';
import type { StoreOpenOutcome, WatchStore } from './store/watch-store.js';
import { createTrustGate } from './watch/trust-gate.js';
import { createWatcher, type Watcher } from './watch/watcher.js';

export interface AppDeps {
  readonly registry: Pick<RegistryClient, 'getManifestDigest'> &
    Partial<Pick<RegistryClient, 'getManifest' | 'getBlob' | 'getReferrers'>>;
  /** One admin-api client per configured host. */
  readonly hosts: AdminHosts<Pick<AdminClient, 'refresh' | 'listImages'>>;
  readonly store: WatchStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** How long a registry hook waits to coalesce a burst (default 50 ms). */
  readonly hookCoalesceMs?: number;
  /** First retry backoff of a failing host (default 2 s). */
  readonly rolloutBackoffMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface ImagewatchApp {
  readonly http: FastifyInstance;
  readonly watcher: Watcher;
  readonly rollouts: RolloutEngine;
  readonly hooks: HookDispatcher;
  /** What opening the state store found. */
  readonly stateLoad: StoreOpenOutcome;
  /** Starts the rollout engine (running rollouts resume) and the watch loop. */
  start(): Promise<void>;
  /**
   * Stops taking hooks and ticks; running checks and host calls may finish until `signal`
   * aborts, then they are aborted. State is written either way.
   */
  drain(signal: AbortSignal): Promise<void>;
}

/** The gate's verifier when signatures are checked (mode warn or enforce). */
function signatureVerifier(
  config: ImagewatchConfig,
  registry: AppDeps['registry'],
): SignatureVerifier | undefined {
  if (config.signatures.mode === 'off') return undefined;
  if (!registry.getManifest || !registry.getBlob || !registry.getReferrers) {
    throw new Error('signature checks need a registry client that reads manifests and blobs');
  }
  return createSignatureVerifier({
    client: registry as Required<AppDeps['registry']>,
    policy: config.signatures,
  });
}

export async function buildApp(config: ImagewatchConfig, deps: AppDeps): Promise<ImagewatchApp> {
  const { logger, metrics, store } = deps;
  const stateLoad = await store.open();
  const rollouts = createRolloutEngine({
    store,
    hosts: deps.hosts,
    settings: {
      waves: config.waves,
      soakMs: config.rolloutSoakMs,
      retries: config.rolloutRetries,
    },
    logger,
    metrics,
    ...(deps.rolloutBackoffMs === undefined ? {} : { backoffMs: deps.rolloutBackoffMs }),
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
  const watcher = createWatcher({
    client: deps.registry,
    hosts: deps.hosts,
    store,
    rollouts,
    trust: createTrustGate({ verifier: signatureVerifier(config, deps.registry), logger, metrics }),
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
  await http.register(healthRoute, { watcher, store });
  if (config.adminToken !== undefined) {
    await http.register(rolloutsRoute, { adminToken: config.adminToken, store, engine: rollouts });
  }
  if (config.hookToken !== undefined || config.githubSecret !== undefined) {
    await http.register(hooksRoute, {
      hookToken: config.hookToken,
      githubSecret: config.githubSecret,
      matcher: createHookMatcher({ targets: watcher.targets }),
      dispatcher: hooks,
      metrics,
      logger,
    });
  }
  await http.ready();

  return {
    http,
    watcher,
    rollouts,
    hooks,
    stateLoad,
    async start() {
      await rollouts.activate();
      watcher.start();
    },
    async drain(signal) {
      await hooks.close();
      await watcher.stop({ signal });
      await rollouts.deactivate(signal);
      await store.close();
    },
  };
}
