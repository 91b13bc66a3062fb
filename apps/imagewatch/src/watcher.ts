/**
 * The watch loop: a tick at start, then one per interval with jitter; ticks never overlap.
 * Each tick checks every target with bounded concurrency; each target's failure is its own.
 * `checkNow(runtime)` runs an immediate check of one runtime from outside the tick (registry
 * hooks), coalesced: never two checks of one reference at once, at most one queued behind.
 */
import { parseImageReference } from '@molecule/registry';
import type { RegistryClient } from '@molecule/registry-client';
import type { Logger } from 'pino';
import type { AdminClient, WorkspaceImage } from './admin-client.js';
import type { ImagewatchConfig, WatchTarget } from './config.js';
import {
  type Decision,
  decide,
  digestToRecord,
  type LocalObservation,
  needsLocalLookup,
  type RemoteObservation,
  shortDigest,
} from './decide.js';
import { createLimiter } from './limiter.js';
import type { CheckOutcome, Metrics } from './metrics.js';
import type { StateStore } from './state-store.js';

export interface CheckResult {
  readonly runtime: string;
  readonly image: string;
  readonly outcome: CheckOutcome | 'aborted';
  readonly remote: RemoteObservation | undefined;
  readonly decision: Decision | undefined;
  /** Set when a refresh was attempted. */
  readonly refreshed?: boolean;
}

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
  /** Stops scheduling, lets the running tick finish for `graceMs` then aborts it, flushes state. */
  stop(options?: { graceMs?: number }): Promise<void>;
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
  /** Overrides `config.targets` (benchmarks watch synthetic references this way). */
  targets?: readonly WatchTarget[];
  /** Fraction of the interval added or removed at random. Default 0.1. */
  jitter?: number;
  random?: () => number;
  now?: () => number;
}

/** Unhealthy when no tick has succeeded for this many intervals. */
export const UNHEALTHY_AFTER_INTERVALS = 3;
const DEFAULT_RATE_LIMIT_BACKOFF_MS = 60_000;
const LOCAL_IMAGES_TTL_MS = 5_000;

const AUTH_FIX =
  'set MOLECULE_REGISTRY_USERNAME and MOLECULE_REGISTRY_PASSWORD for this registry host, or log in with ' +
  '`docker login <host>` (Docker config / credential helper); for ECR make AWS credentials available';

interface Slot {
  running?: Promise<CheckResult> | undefined;
  queued?: Promise<CheckResult> | undefined;
}

export function createWatcher(deps: WatcherDeps): Watcher {
  const { client, admin, store, config, logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const jitter = deps.jitter ?? 0.1;
  const targets = Object.freeze([...(deps.targets ?? config.targets)]);
  const hostOf = new Map(targets.map((t) => [t.image, safeDomain(t.image)]));
  const limit = createLimiter(config.concurrency);
  const slots = new Map<string, Slot>();
  const backoffUntil = new Map<string, number>();
  const errorState = new Map<string, string>();
  const reportedChange = new Map<string, string>();
  const stopController = new AbortController();

  let startedAt = now();
  let lastSuccessAt: number | undefined;
  let lastTickAt: number | undefined;
  let currentTick: Promise<TickReport> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let stopped = false;
  let localImages: { at: number; promise: Promise<Map<string, WorkspaceImage>> } | undefined;

  metrics.watchedReferences.set(targets.length);

  function log(target: WatchTarget) {
    return logger.child({ runtime: target.runtime, image: target.image });
  }

  async function fetchRemote(target: WatchTarget): Promise<RemoteObservation> {
    try {
      const { digest } = await client.getManifestDigest(target.image, {
        signal: stopController.signal,
      });
      return { kind: 'resolved', digest };
    } catch (error) {
      const code =
        typeof (error as { code?: unknown }).code === 'string'
          ? (error as { code: string }).code
          : 'UNKNOWN';
      const message = error instanceof Error ? error.message : String(error);
      if (code === 'RATE_LIMITED') {
        const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
        const wait =
          typeof retryAfterMs === 'number' && retryAfterMs >= 0
            ? retryAfterMs
            : DEFAULT_RATE_LIMIT_BACKOFF_MS;
        const host = hostOf.get(target.image) ?? target.image;
        backoffUntil.set(host, Math.max(backoffUntil.get(host) ?? 0, now() + wait));
      }
      return { kind: 'failed', code, message };
    }
  }

  /** admin-api's view of local images, asked once per tick (shared by every first sight). */
  async function lookupLocal(target: WatchTarget): Promise<LocalObservation> {
    if (config.adminToken === undefined && !config.autoRefresh) return { kind: 'not-asked' };
    if (localImages === undefined || now() - localImages.at > LOCAL_IMAGES_TTL_MS) {
      const promise = admin
        .listImages({ signal: stopController.signal })
        .then((list) => new Map(list.map((entry) => [entry.runtime, entry])));
      localImages = { at: now(), promise };
      // A failed listing is not kept for later callers.
      promise.catch(() => {
        if (localImages?.promise === promise) localImages = undefined;
      });
    }
    let byRuntime: Map<string, WorkspaceImage>;
    try {
      byRuntime = await localImages.promise;
    } catch (error) {
      return {
        kind: 'unavailable',
        message: error instanceof Error ? error.message : String(error),
      };
    }
    const entry = byRuntime.get(target.runtime);
    if (entry === undefined || entry.local === null) return { kind: 'absent' };
    if (entry.image !== target.image) {
      // Two services disagreeing on the registry is the bug this project exists to prevent.
      return {
        kind: 'unavailable',
        message: `admin-api resolves ${target.runtime} to ${entry.image}, imagewatch to ${target.image}: set the same MOLECULE_IMAGE_REGISTRY on both`,
      };
    }
    return { kind: 'present', digest: entry.local.digest ?? undefined };
  }

  function noteError(target: WatchTarget, remote: Extract<RemoteObservation, { kind: 'failed' }>) {
    metrics.checkErrors.inc({ runtime: target.runtime, code: remote.code });
    const previous = errorState.get(target.image);
    errorState.set(target.image, remote.code);
    const child = log(target);
    if (previous === remote.code) {
      child.debug({ code: remote.code }, 'digest check still failing');
      return;
    }
    const host = hostOf.get(target.image);
    if (remote.code === 'UNAUTHORIZED') {
      child.error(
        { code: remote.code, host, err: remote.message, fix: AUTH_FIX },
        'registry refused our credentials',
      );
    } else if (remote.code === 'RATE_LIMITED') {
      child.warn(
        {
          code: remote.code,
          host,
          retryAt: new Date(backoffUntil.get(host ?? '') ?? now()).toISOString(),
        },
        'registry rate limit: backing off',
      );
    } else if (remote.code === 'NOT_FOUND') {
      child.error(
        {
          code: remote.code,
          host,
          err: remote.message,
          fix: 'push the image to the configured registry or fix MOLECULE_IMAGE_REGISTRY',
        },
        'image not found in the registry',
      );
    } else {
      child.warn(
        { code: remote.code, host, err: remote.message },
        'digest check failed (retrying next tick)',
      );
    }
  }

  function noteRecovered(target: WatchTarget) {
    const previous = errorState.get(target.image);
    if (previous === undefined) return;
    errorState.delete(target.image);
    log(target).info({ previousCode: previous }, 'digest check works again');
  }

  async function refresh(target: WatchTarget): Promise<boolean> {
    try {
      const result = await admin.refresh(target.runtime, {
        recreate: true,
        signal: stopController.signal,
      });
      const ok = result.pulled.includes(target.runtime) && !result.failed.includes(target.runtime);
      metrics.refreshes.inc({ runtime: target.runtime, outcome: ok ? 'success' : 'failure' });
      if (ok) {
        log(target).info({ recreated: result.recreated }, 'refresh done');
      } else {
        log(target).error(
          { failed: result.failed },
          'admin-api could not pull the image (retrying next tick)',
        );
      }
      return ok;
    } catch (error) {
      metrics.refreshes.inc({ runtime: target.runtime, outcome: 'failure' });
      const code = (error as { code?: string }).code;
      log(target).error(
        { code, err: error instanceof Error ? error.message : String(error) },
        'refresh failed (retrying next tick)',
      );
      return false;
    }
  }

  async function check(target: WatchTarget): Promise<CheckResult> {
    const base = { runtime: target.runtime, image: target.image };
    if (stopController.signal.aborted)
      return { ...base, outcome: 'aborted', remote: undefined, decision: undefined };
    const host = hostOf.get(target.image) ?? target.image;
    const until = backoffUntil.get(host);
    if (until !== undefined && until > now()) {
      metrics.checks.inc({ runtime: target.runtime, outcome: 'backoff' });
      log(target).debug(
        { retryAt: new Date(until).toISOString() },
        'rate limited: skipping this check',
      );
      return { ...base, outcome: 'backoff', remote: undefined, decision: undefined };
    }

    const remote = await fetchRemote(target);
    if (stopController.signal.aborted)
      return { ...base, outcome: 'aborted', remote, decision: undefined };
    if (remote.kind === 'failed') {
      noteError(target, remote);
    } else {
      noteRecovered(target);
    }
    const seen = store.get(target.image)?.digest;
    const local: LocalObservation = needsLocalLookup(seen, remote)
      ? await lookupLocal(target)
      : { kind: 'not-asked' };
    const decision = decide({ seen, remote, local, autoRefresh: config.autoRefresh });
    const child = log(target);

    let refreshed: boolean | undefined;
    let outcome: CheckOutcome;
    switch (decision.action) {
      case 'seed':
        outcome = 'seeded';
        child.info({ digest: shortDigest(decision.digest) }, 'first sight: digest recorded');
        break;
      case 'unchanged':
        outcome = 'unchanged';
        break;
      case 'retry':
        outcome = 'error';
        if (decision.reason === 'local-unknown') {
          child.warn(
            { err: decision.message },
            'first sight but admin-api cannot say which digest the host runs: retrying next tick',
          );
        }
        break;
      case 'report':
      case 'refresh': {
        outcome = 'changed';
        const fields = {
          reason: decision.reason,
          old: shortDigest(decision.from),
          new: shortDigest(decision.to),
        };
        if (reportedChange.get(target.image) !== decision.to) {
          reportedChange.set(target.image, decision.to);
          metrics.digestChanges.inc({ runtime: target.runtime });
          child.warn(
            fields,
            decision.action === 'report'
              ? 'digest changed (monitor-only: not refreshing)'
              : 'digest changed: asking admin-api to refresh',
          );
        } else if (decision.action === 'refresh') {
          child.info(fields, 'retrying refresh');
        }
        if (decision.action === 'refresh') refreshed = await refresh(target);
        break;
      }
    }
    const record = digestToRecord(decision, refreshed === true);
    if (record !== undefined) store.set(target.image, record);
    metrics.checks.inc({ runtime: target.runtime, outcome });
    return {
      ...base,
      outcome,
      remote,
      decision,
      ...(refreshed === undefined ? {} : { refreshed }),
    };
  }

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
    const results = await Promise.all(targets.map((target) => scheduleCheck(target, true)));
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
    async stop({ graceMs = 10_000 } = {}) {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      wake?.();
      const inFlight = [...slots.values()]
        .flatMap((s) => [s.running, s.queued])
        .filter((p) => p !== undefined);
      const pending = Promise.allSettled([currentTick, ...inFlight]);
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace-over'>((resolve) => {
        graceTimer = setTimeout(() => resolve('grace-over'), graceMs);
      });
      const first = await Promise.race([pending.then(() => 'done' as const), graceOver]);
      clearTimeout(graceTimer);
      if (first === 'grace-over') {
        logger.warn({ graceMs }, 'stopping: aborting the running tick');
        stopController.abort();
        await pending;
      }
      await loop;
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

function safeDomain(image: string): string {
  try {
    return parseImageReference(image).domain;
  } catch {
    return image;
  }
}
