/**
 * The watch loop: a tick at start, then one per interval with jitter; ticks never overlap,
 * and a reference's check never overlaps itself. Each tick checks every target with bounded
 * concurrency; each target's failure is its own, and so is its slowness: a tick waits for its
 * checks at most until the next tick is due, so one hung registry request (bounded by the
 * registry client's request timeout) delays only its own reference, which the next tick skips
 * while that check still runs (`busy`). `checkNow(runtime)` runs an immediate check of one
 * runtime from outside the tick (registry hooks), coalesced: at most one queued behind a
 * running one. What one check does is `reference-check.ts`; this file only decides when.
 */
import type { RegistryClient } from '@molecule/registry-client';
import { createLimiter, createSharedAbortController, mapLimit } from '@molecule/service-kit';
import type { Logger } from 'pino';
import type { AdminClient } from '../admin-client/client.js';
import type { ImagewatchConfig, WatchTarget } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { RolloutEngine } from '../rollouts/engine.js';
import type { AdminHosts } from '../rollouts/hosts.js';
import type { WatchStore } from '../store/watch-store.js';
import { type CheckResult, createReferenceChecker } from './reference-check.js';
import type { TrustGate } from './trust-gate.js';

export type { CheckResult } from './reference-check.js';

export interface TickReport {
  readonly startedAt: number;
  readonly durationMs: number;
  readonly succeeded: boolean;
  /** The checks that finished within the tick. */
  readonly results: readonly CheckResult[];
  /** References whose check from an earlier tick still ran: not checked again. */
  readonly busy: readonly string[];
  /** References whose check outlasted the tick: it goes on, bounded by the request timeout. */
  readonly slow: readonly string[];
}

export interface WatcherHealth {
  readonly healthy: boolean;
  readonly lastSuccessAt: number | undefined;
  readonly lastTickAt: number | undefined;
  readonly ticking: boolean;
}

export interface Watcher {
  readonly targets: readonly WatchTarget[];
  /** Starts the loop: a tick now, then one per interval (each only when `mayTick` allows). */
  start(): void;
  /** The loop's next tick now instead of at its time (after taking the lead). */
  nudge(): void;
  /** Runs one tick now, or joins the tick already running (ticks never overlap). */
  tick(): Promise<TickReport>;
  /** Immediate check of one runtime's reference(s); `[]` when the runtime is not watched. */
  checkNow(runtime: string): Promise<CheckResult[]>;
  /**
   * Stops scheduling and lets the running checks finish; when `signal` aborts first, their
   * registry and admin-api calls are aborted.
   */
  stop(options?: { signal?: AbortSignal }): Promise<void>;
  health(): WatcherHealth;
}

export interface WatcherDeps {
  client: Pick<RegistryClient, 'getManifestDigest'>;
  hosts: AdminHosts<Pick<AdminClient, 'listImages'>>;
  store: Pick<WatchStore, 'seenDigest' | 'commit'>;
  rollouts: Pick<RolloutEngine, 'begin'>;
  /** The signed-image gate; default: off. */
  trust?: TrustGate;
  config: Pick<
    ImagewatchConfig,
    'intervalMs' | 'autoRefresh' | 'concurrency' | 'adminToken' | 'targets'
  >;
  logger: Logger;
  metrics: Metrics;
  /** Asked before each of the loop's ticks: only the leader ticks. Default: always. */
  mayTick?: () => Promise<boolean>;
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
  const { client, hosts, store, rollouts, config, logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const jitter = deps.jitter ?? 0.1;
  const mayTick = deps.mayTick ?? (async () => true);
  const targets = Object.freeze([...config.targets]);
  const limit = createLimiter(config.concurrency);
  const slots = new Map<string, Slot>();
  const stopController = createSharedAbortController();
  const { check } = createReferenceChecker({
    client,
    hosts,
    store,
    rollouts,
    trust: deps.trust ?? { judge: async () => ({ kind: 'off' }) },
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
    const busy = targets.filter((target) => slots.get(target.image)?.running !== undefined);
    const due = targets.filter((target) => !busy.includes(target));
    const results: CheckResult[] = [];
    const finishing = mapLimit(due, config.concurrency, async (target) => {
      results.push(await scheduleCheck(target, true));
    });
    // The tick waits for its checks at most until the next one is due.
    let budgetTimer: NodeJS.Timeout | undefined;
    const budgetOver = new Promise<'budget'>((resolve) => {
      budgetTimer = setTimeout(() => resolve('budget'), config.intervalMs);
    });
    await Promise.race([finishing, budgetOver]);
    clearTimeout(budgetTimer);
    // In target order, whatever order the checks finished in.
    const order = new Map(targets.map((t, index) => [t.image, index]));
    results.sort((a, b) => (order.get(a.image) ?? 0) - (order.get(b.image) ?? 0));
    const finished = new Set(results.map((r) => r.image));
    const slow = due.filter((target) => !finished.has(target.image)).map((t) => t.image);
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
        references: targets.length,
        unchanged: count('unchanged'),
        seeded: count('seeded'),
        changed: count('changed'),
        errors: count('error'),
        backoff: count('backoff'),
        ...(busy.length > 0 ? { busy: busy.length } : {}),
        ...(slow.length > 0 ? { slow: slow.length } : {}),
        ...(aborted ? { aborted: true } : {}),
      },
      succeeded ? 'tick done' : 'tick failed',
    );
    return {
      startedAt: tickStart,
      durationMs,
      succeeded,
      results,
      busy: busy.map((t) => t.image),
      slow,
    };
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
        if (await mayTick()) await tick();
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
    nudge() {
      if (timer !== undefined) clearTimeout(timer);
      wake?.();
    },
    tick,
    async checkNow(runtime) {
      const matching = targets.filter((t) => t.runtime === runtime);
      if (matching.length === 0 || stopped) return [];
      return Promise.all(matching.map((t) => scheduleCheck(t, false)));
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
