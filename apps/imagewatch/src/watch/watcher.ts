/**
 * The watch loop: a tick at start, then one per interval with jitter; ticks never overlap.
 * Each tick checks every target with bounded concurrency; each target's failure is its own.
 * `checkNow(runtime)` runs an immediate check of one runtime from outside the tick (registry
 * hooks), coalesced: never two checks of one reference at once, at most one queued behind.
 * What one check does is `reference-check.ts`; this file only decides when checks run.
 */
import type { RegistryClient } from '@molecule/registry-client';
import { createLimiter, mapLimit } from '@molecule/service-kit';
import type { Logger } from 'pino';
import type { AdminClient } from '../admin-client/client.js';
import type { ImagewatchConfig, WatchTarget } from '../config.js';
import type { Metrics } from '../metrics.js';
import { type CheckResult, createReferenceChecker } from './reference-check.js';
import type { StateStore } from './state-store.js';

export type { CheckResult } from './reference-check.js';

export interface TickReport {
  readonly startedAt: number;
  readonly durationMs: number;
  readonly succeeded: boolean;
  readonly results: readonly CheckResult[];
}

export interface WatcherHealth {
  readonly healthy: boolean;
  readonly lastSuccessAt: number | undefined;
  readonly lastTickAt: number | undefined;
  readonly ticking: boolean;
}

export interface Watcher {
  readonly targets: readonly WatchTarget[];
  /** Starts the loop: a tick now, then one per interval. */
  start(): void;
  /** Runs one tick now, or joins the tick already running (ticks never overlap). */
  tick(): Promise<TickReport>;
  /** Immediate check of one runtime's reference(s); `[]` when the runtime is not watched. */
  checkNow(runtime: string): Promise<CheckResult[]>;
  /**
   * Stops scheduling and lets the running tick finish; when `signal` aborts first, the tick's
   * registry and admin-api calls are aborted. Flushes state either way.
   */
  stop(options?: { signal?: AbortSignal }): Promise<void>;
  health(): WatcherHealth;
}

export interface WatcherDeps {
  client: Pick<RegistryClient, 'getManifestDigest'>;
  admin: Pick<AdminClient, 'refresh' | 'listImages'>;
  store: StateStore;
  config: Pick<
    ImagewatchConfig,
    'intervalMs' | 'autoRefresh' | 'concurrency' | 'adminToken' | 'targets'
  >;
  logger: Logger;
  metrics: Metrics;
  /** Fraction of the interval added or removed at random. Default 0.1. */
  jitter?: number;
  random?: () => number;
  now?: () => number;
}

/** Unhealthy when no tick has succeeded for this many intervals. */
export const UNHEALTHY_AFTER_INTERVALS = 3;

interface Slot {
  running?: Promise<CheckResult> | undefined;
  queued?: Promise<CheckResult> | undefined;
}

export function createWatcher(deps: WatcherDeps): Watcher {
  const { client, admin, store, config, logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const jitter = deps.jitter ?? 0.1;
  const targets = Object.freeze([...config.targets]);
  const limit = createLimiter(config.concurrency);
  const slots = new Map<string, Slot>();
  const stopController = new AbortController();
  const { check } = createReferenceChecker({
    client,
    admin,
    store,
    config,
    logger,
    metrics,
    targets,
    signal: stopController.signal,
    now,
  });

  let startedAt = now();
  let lastSuccessAt: number | undefined;
  let lastTickAt: number | undefined;
  let currentTick: Promise<TickReport> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let stopped = false;

  metrics.watchedReferences.set(targets.length);

  /**
   * Runs a check of `target` through its slot. `join`: reuse a running check (ticks);
   * otherwise queue one behind it, coalescing with any already queued (hooks: the running
   * check may have started before the push).
   */
  function scheduleCheck(target: WatchTarget, join: boolean): Promise<CheckResult> {
    let slot = slots.get(target.image);
    if (slot === undefined) {
      slot = {};
      slots.set(target.image, slot);
    }
    const s = slot;
    const start = (): Promise<CheckResult> => {
      const running = limit(() => check(target)).finally(() => {
        if (s.running === running) s.running = undefined;
      });
      s.running = running;
      return running;
    };
    if (s.running === undefined) return start();
    if (join) return s.running;
    if (s.queued !== undefined) return s.queued;
    const queued = s.running
      .catch(() => undefined)
      .then(() => {
        s.queued = undefined;
        return start();
      });
    s.queued = queued;
    return queued;
  }

  async function runTick(): Promise<TickReport> {
    const tickStart = now();
    lastTickAt = tickStart;
    const endTimer = metrics.tickDuration.startTimer();
    const results = await mapLimit(targets, config.concurrency, (target) =>
      scheduleCheck(target, true),
    );
    await store.flush();
    endTimer();
    const resolved = results.filter((r) => r.remote?.kind === 'resolved').length;
    const aborted = results.some((r) => r.outcome === 'aborted');
    const succeeded = !aborted && (targets.length === 0 || resolved > 0);
    const durationMs = now() - tickStart;
    metrics.ticks.inc({ outcome: succeeded ? 'success' : 'failure' });
    if (succeeded) {
      lastSuccessAt = now();
      metrics.lastSuccessfulTick.set(lastSuccessAt / 1000);
    }
    const count = (outcome: CheckResult['outcome']) =>
      results.filter((r) => r.outcome === outcome).length;
    logger.info(
      {
        durationMs,
        references: results.length,
        unchanged: count('unchanged'),
        seeded: count('seeded'),
        changed: count('changed'),
        errors: count('error'),
        backoff: count('backoff'),
        ...(aborted ? { aborted: true } : {}),
      },
      succeeded ? 'tick done' : 'tick failed',
    );
    return { startedAt: tickStart, durationMs, succeeded, results };
  }

  function tick(): Promise<TickReport> {
    if (currentTick === undefined) {
      currentTick = runTick().finally(() => {
        currentTick = undefined;
      });
    }
    return currentTick;
  }

  function nextDelay(elapsedMs: number): number {
    const spread = config.intervalMs * jitter * (random() * 2 - 1);
    // Measured from the tick's start; a tick slower than the interval delays the next one
    // (a short pause, never an overlap or a burst of catch-up ticks).
    return Math.max(
      config.intervalMs + spread - elapsedMs,
      Math.min(1_000, config.intervalMs / 10),
    );
  }

  async function runLoop(): Promise<void> {
    while (!stopped) {
      const started = now();
      try {
        await tick();
      } catch (error) {
        // Checks never throw; this is a bug or a state-store failure: keep the loop alive.
        logger.error({ err: error }, 'tick crashed');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, nextDelay(now() - started));
      });
      wake = undefined;
      timer = undefined;
    }
  }

  return {
    targets,
    start() {
      if (loop !== undefined || stopped) return;
      startedAt = now();
      loop = runLoop();
    },
    tick,
    async checkNow(runtime) {
      const matching = targets.filter((t) => t.runtime === runtime);
      if (matching.length === 0 || stopped) return [];
      const results = await Promise.all(matching.map((t) => scheduleCheck(t, false)));
      await store.flush();
      return results;
    },
    async stop({ signal } = {}) {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      wake?.();
      const inFlight = [...slots.values()]
        .flatMap((s) => [s.running, s.queued])
        .filter((p) => p !== undefined);
      const pending = Promise.allSettled([currentTick, ...inFlight]);
      const abort = () => {
        logger.warn('stopping: aborting the running checks');
        stopController.abort();
      };
      if (signal?.aborted) abort();
      else signal?.addEventListener('abort', abort, { once: true });
      try {
        await pending;
        await loop;
      } finally {
        signal?.removeEventListener('abort', abort);
      }
      await store.flush();
    },
    health() {
      const reference = lastSuccessAt ?? startedAt;
      const healthy =
        reference === undefined ||
        now() - reference <= UNHEALTHY_AFTER_INTERVALS * config.intervalMs;
      return { healthy, lastSuccessAt, lastTickAt, ticking: currentTick !== undefined };
    },
  };
}
