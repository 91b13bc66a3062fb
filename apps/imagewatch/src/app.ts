/**
 * `buildApp(config, deps)`: imagewatch's parts wired together: the state store, the
 * leadership, the rollout engine, the watch loop, the registry hooks and the HTTP routes. Pure
 * wiring: every I/O client comes in through `deps`, nothing listens and nothing reads the
 * environment (server.ts listens; config.ts reads the env). Tests build the same graph with
 * fakes.
 *
 * Every replica serves health, metrics, the rollouts API and hooks; only the leader ticks and
 * rolls out. A follower's hook and rollout actions reach the leader through the leadership
 * (PostgreSQL NOTIFY); with the state file this process is the only replica and the leader.
 */
import { createSignatureVerifier, type SignatureVerifier } from '@molecule/image-signatures';
import type { RegistryClient } from '@molecule/registry-client';
import { createServiceApp, type Logger, sleep } from '@molecule/service-kit';
import type { FastifyInstance } from 'fastify';
import type { AdminClient } from './admin-client/client.js';
import type { ImagewatchConfig } from './config.js';
import { classifyError } from './errors.js';
import { createHookDispatcher, type HookDispatcher } from './hooks/dispatcher.js';
import { createHookMatcher } from './hooks/matcher.js';
import { hooksRoute } from './hooks/route.js';
import { createSoleLeadership, type Leadership } from './leadership/leadership.js';
import type { Metrics } from './metrics.js';
import { createRolloutEngine, type RolloutEngine } from './rollouts/engine.js';
import type { AdminHosts } from './rollouts/hosts.js';
import { healthRoute } from './routes/health.js';
import { rolloutsRoute } from './routes/rollouts.js';
import { isStoreError, isStoreUnavailableError } from './store/store-errors.js';
import type { StoreOpenOutcome, WatchStore } from './store/watch-store.js';
import { createTrustGate } from './watch/trust-gate.js';
import { createWatcher, type Watcher } from './watch/watcher.js';

export interface AppDeps {
  readonly registry: Pick<RegistryClient, 'getManifestDigest'> &
    Partial<Pick<RegistryClient, 'getManifest' | 'getBlob' | 'getReferrers'>>;
  /** One admin-api client per configured host. */
  readonly hosts: AdminHosts<Pick<AdminClient, 'refresh' | 'listImages'>>;
  readonly store: WatchStore;
  /** Who may tick and roll out. Default: this process alone (the state file). */
  readonly leadership?: Leadership;
  /** Runs once the store is open (PostgreSQL: imports the state file into an empty database). */
  readonly onStoreOpened?: () => Promise<void>;
  /** How long to wait before opening an unreachable store again (default 2 s). */
  readonly storeRetryMs?: number;
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
  readonly leadership: Leadership;
  /** What opening the state store found (undefined until `open()` resolved). */
  readonly stateLoad: StoreOpenOutcome | undefined;
  /**
   * Opens the store, again and again while it is unreachable (health says so meanwhile), then
   * runs `onStoreOpened`. Idempotent. Rejects only when drained first.
   */
  open(): Promise<StoreOpenOutcome>;
  /**
   * Opens the store, then campaigns: on taking the lead the rollout engine resumes running
   * rollouts and the watch loop ticks at once; on losing it both stop acting.
   */
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
  const leadership =
    deps.leadership ??
    createSoleLeadership({
      epoch: () => store.epoch(),
      metrics: { leader: metrics.leader, takeovers: metrics.leaderTakeovers },
    });
  /** admin-api accepted a newer epoch while we held the lock: a second fleet, or a restored database. */
  let staleEpoch: string | undefined;
  /** Why the store could not be opened yet (it is tried again). */
  let openProblem: string | undefined;
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
    mayAct: () => leadership.confirm(),
    onStaleEpoch: (message) => {
      staleEpoch = message;
    },
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
    // Followers keep their loop but skip its ticks: no registry request, no refresh. The
    // leader's tick also adopts rollouts resumed elsewhere whose announcement was lost.
    mayTick: async () => {
      if (!(await leadership.confirm())) return false;
      await rollouts
        .adoptRunning()
        .catch((error: unknown) => logger.warn({ err: error }, 'running rollouts not re-read'));
      return true;
    },
    ...(deps.now === undefined ? {} : { now: deps.now }),
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
  const hooks = createHookDispatcher({
    // A follower hands the check to the leader (which checks within its own coalescing).
    watcher: {
      async checkNow(runtime) {
        if (leadership.isLeader()) return watcher.checkNow(runtime);
        await leadership.requestCheck(runtime);
        return [];
      },
    },
    logger,
    metrics,
    ...(deps.hookCoalesceMs === undefined ? {} : { coalesceMs: deps.hookCoalesceMs }),
  });
  leadership.onCheckRequested((runtime) => hooks.trigger(runtime, { coalesceMs: 0 }));
  leadership.onRolloutAnnounced((id) => rollouts.poke(id));

  const http = await createServiceApp({ logger, classifyError, metrics: metrics.registry });
  await http.register(healthRoute, {
    watcher,
    store,
    leadership: {
      isLeader: () => leadership.isLeader(),
      health: () => {
        if (openProblem !== undefined) return { ok: false, reason: openProblem };
        if (staleEpoch !== undefined) return { ok: false, reason: `stopped acting: ${staleEpoch}` };
        return leadership.health();
      },
    },
  });
  if (config.adminToken !== undefined) {
    await http.register(rolloutsRoute, {
      adminToken: config.adminToken,
      store,
      engine: rollouts,
      // The leader drives rollouts: an action taken on any replica is announced to it.
      onChanged: (id) => leadership.announceRollout(id),
    });
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

  const draining = new AbortController();
  let stateLoad: StoreOpenOutcome | undefined;
  let opening: Promise<StoreOpenOutcome> | undefined;
  const retryMs = deps.storeRetryMs ?? 2_000;

  /** Opens the store; while it is unreachable, waits and tries again (logged once). */
  async function openStore(): Promise<StoreOpenOutcome> {
    let reported = false;
    for (;;) {
      try {
        const outcome = await store.open();
        if (deps.onStoreOpened !== undefined) {
          try {
            await deps.onStoreOpened();
          } catch (error) {
            // A state file that cannot be imported is reported; the database is used as it is.
            if (isStoreUnavailableError(error) || !isStoreError(error)) throw error;
            logger.error({ err: error }, 'state file not imported');
          }
        }
        if (reported) logger.info({ store: store.describe() }, 'store reachable again: opened');
        openProblem = undefined;
        return outcome;
      } catch (error) {
        if (!isStoreUnavailableError(error)) throw error;
        openProblem = `store unreachable since start: ${error.message}`;
        if (!reported) {
          logger.error(
            { store: store.describe(), err: error, retryMs },
            'store unreachable at start: serving health and trying again',
          );
          reported = true;
        }
        await sleep(retryMs, draining.signal);
      }
    }
  }

  const app: ImagewatchApp = {
    http,
    watcher,
    rollouts,
    hooks,
    leadership,
    get stateLoad() {
      return stateLoad;
    },
    open() {
      opening ??= openStore().then((outcome) => {
        stateLoad = outcome;
        return outcome;
      });
      return opening;
    },
    async start() {
      await app.open();
      leadership.onChange((leader) => {
        if (leader) {
          staleEpoch = undefined;
          logger.info({ epoch: leadership.epoch() }, 'leader: ticking and rolling out');
          void rollouts.activate().then(() => watcher.nudge());
        } else {
          logger.warn('not the leader any more: no further tick or refresh call');
          void rollouts.deactivate();
        }
      });
      leadership.start();
      watcher.start();
    },
    async drain(signal) {
      draining.abort();
      await hooks.close();
      await watcher.stop({ signal });
      await rollouts.deactivate(signal);
      // Only once nothing is in flight may another replica take over.
      await leadership.stop();
      await store.close();
    },
  };
  return app;
}
