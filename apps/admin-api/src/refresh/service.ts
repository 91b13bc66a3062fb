/**
 * The refresh service: the queue (one refresh at a time, identical waiting requests joined,
 * abandoned ones dropped), the pull step and the recreate step it starts runtime by runtime,
 * the outcome, and a shutdown that answers waiting refreshes 503 and lets the running one
 * finish until it must be cancelled.
 */

import type { SignatureVerifier } from '@molecule/image-signatures';
import { type Env, KNOWN_RUNTIMES, type Runtime, runtimeImage } from '@molecule/registry';
import type { CredentialResolver, RegistryClient } from '@molecule/registry-client';
import { type Logger, withDeadline } from '@molecule/service-kit';
import type Docker from 'dockerode';
import { describeEngineError, isEngineUnreachable } from '../engine/engine-errors.js';
import { inspectLocalImage, type LocalImage } from '../engine/images.js';
import { AdminApiError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { EpochFence } from './epoch-fence.js';
import type { EmitRefreshEvent, RefreshEvent } from './events.js';
import { runPullStep } from './pull-step.js';
import { CallersGoneError, RefreshQueue } from './queue.js';
import { createRecreateStep } from './recreate-step.js';
import { type RefreshOutcome, type RefreshResult, resolveOutcome } from './result.js';
import { runTrustStep } from './trust-step.js';

export interface RefreshRequest {
  readonly runtimes: readonly Runtime[];
  readonly recreate: boolean;
  /** Pull exactly this digest (one runtime) and tag it as the runtime's `:latest`. */
  readonly digest?: string;
  /** `X-Rollout-Epoch` of the calling imagewatch leader (fenced: epoch-fence.ts). */
  readonly epoch?: number;
}

export interface RefreshServiceOptions {
  readonly docker: Docker;
  readonly credentials: CredentialResolver;
  readonly registryHost: string;
  readonly platform: string;
  /** The environment runtime image references are resolved in (the registry settings' env). */
  readonly env: Env;
  readonly stopGraceSeconds: number;
  readonly pullTimeoutMs: number;
  readonly pullConcurrency: number;
  readonly queueLimit: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** How many containers are stopped at once (each may take the whole grace period). */
  readonly stopConcurrency?: number;
  /** How many containers are inspected at once. */
  readonly inspectConcurrency?: number;
  readonly now?: () => number;
  /** The signed-image gate (absent or mode `off`: pulls are not verified). */
  readonly verifier?: SignatureVerifier;
  /** Reads the registry for the gate (the tag's digest); required with a verifier. */
  readonly registry?: Pick<RegistryClient, 'getManifestDigest'>;
}

/** Runtimes in KNOWN_RUNTIMES order, each once. */
function inRuntimeOrder(runtimes: Iterable<Runtime>): Runtime[] {
  const set = new Set(runtimes);
  return KNOWN_RUNTIMES.filter((runtime) => set.has(runtime));
}

export interface RefreshCall {
  /** Progress of this refresh (NDJSON); a joined request sees the events from then on. */
  readonly onEvent?: (event: RefreshEvent) => void;
  /** Aborts when the caller has gone (its connection closed before the answer). */
  readonly caller?: AbortSignal;
}

export interface RefreshService {
  /** Throws the 429/503 AdminApiError `refresh` would reject with right now. */
  assertAccepting(request: RefreshRequest): void;
  /**
   * Queue a refresh (or join an identical waiting one); resolves with its complete outcome.
   * Rejects with 429/503 AdminApiErrors; with `CallersGoneError` when it was dropped unstarted.
   */
  refresh(request: RefreshRequest, call?: RefreshCall): Promise<RefreshOutcome>;
  /** The engine's copy of each known runtime's image (`local: null` when absent). */
  listLocalImages(): Promise<Array<{ runtime: Runtime; image: string; local: LocalImage | null }>>;
  /** Resolves true when the engine answers `_ping`. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** The highest `X-Rollout-Epoch` accepted so far. */
  readonly highestEpoch: number | undefined;
  /**
   * Shutdown: refuse new refreshes, answer waiting ones 503 `SHUTTING_DOWN`, let the running
   * one finish; when `cancel` aborts, its pulls are aborted and no further container is
   * touched. `cancelAt` (epoch ms) bounds the stop grace of removals started meanwhile.
   */
  drain(cancel: AbortSignal, cancelAt: number): Promise<void>;
}

/** Requests with the same key do the same work (and join when one is already waiting). */
export function refreshKey(request: RefreshRequest): string {
  return JSON.stringify([
    [...request.runtimes].sort(),
    request.recreate,
    request.digest ?? null,
    request.epoch ?? null,
  ]);
}

export function createRefreshService(options: RefreshServiceOptions): RefreshService {
  const { docker, metrics, logger } = options;
  const now = options.now ?? Date.now;
  const queue = new RefreshQueue<RefreshOutcome>();
  /** Listeners of each waiting (not yet started) refresh, by key. */
  const waiting = new Map<string, Set<EmitRefreshEvent>>();
  const cancel = new AbortController();
  const fence = new EpochFence();
  let closing = false;
  let cancelAt: number | undefined;

  function shuttingDown(): AdminApiError {
    return new AdminApiError(
      'SHUTTING_DOWN',
      'service is shutting down; retry on another instance or later',
    );
  }

  async function pingEngine(timeoutMs = 2000): Promise<boolean> {
    try {
      await withDeadline(
        timeoutMs,
        undefined,
        ({ signal }) =>
          docker.ping({ abortSignal: signal } as never) as unknown as Promise<unknown>,
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Removals started during shutdown get only the time left before the cancel. */
  function stopGraceSeconds(): number {
    if (cancelAt === undefined) return options.stopGraceSeconds;
    const left = Math.floor((cancelAt - now()) / 1000) - 1;
    return Math.max(0, Math.min(options.stopGraceSeconds, left));
  }

  async function runRefresh(
    request: RefreshRequest,
    emit: EmitRefreshEvent,
  ): Promise<RefreshOutcome> {
    const started = performance.now();
    emit({
      event: 'started',
      runtimes: [...request.runtimes],
      recreate: request.recreate,
      ...(request.digest === undefined ? {} : { digest: request.digest }),
    });

    const trust = await runTrustStep(request.runtimes, request.digest, {
      verifier: options.verifier,
      registry: options.registry,
      env: options.env,
      metrics,
      logger,
      signal: cancel.signal,
      emit,
    });
    const refusedRuntimes = new Set(trust.refused.flatMap((error) => error.runtime ?? []));
    const recreate = request.recreate
      ? createRecreateStep({
          docker,
          stopGraceSeconds,
          // A stop mostly waits for the container to exit: stopping them in waves would
          // add a wave's wait per wave, so every target of a usual host is stopped at once.
          stopConcurrency: options.stopConcurrency ?? 32,
          inspectConcurrency: options.inspectConcurrency ?? 8,
          signal: cancel.signal,
          metrics,
          logger,
          emit,
        })
      : undefined;
    const pull = await runPullStep(
      request.runtimes.filter((runtime) => !refusedRuntimes.has(runtime)),
      {
        docker,
        credentials: options.credentials,
        registryHost: options.registryHost,
        platform: options.platform,
        env: options.env,
        pullTimeoutMs: options.pullTimeoutMs,
        pullConcurrency: options.pullConcurrency,
        metrics,
        logger,
        signal: cancel.signal,
        emit,
        // Each runtime's removals start once its own pull is verified, while others pull.
        onPulled: recreate?.start,
      },
      trust.pins,
    );
    const removal = await recreate?.finish();
    const result: RefreshResult = {
      pulled: pull.pulled,
      failed: inRuntimeOrder([...pull.failed, ...refusedRuntimes]),
      recreated: removal?.recreated ?? [],
      unchanged: removal?.unchanged ?? [],
      errors: [...trust.refused, ...pull.errors, ...(removal?.errors ?? [])],
      images: pull.images,
    };
    const listFailure = removal?.listFailure;

    // A pull cut short may be a dropped connection rather than an engine that is gone:
    // only an engine that does not answer ping now is reported as unreachable.
    let unreachable = pull.unreachable;
    if (unreachable !== undefined && !listFailure && (await pingEngine(2000))) {
      unreachable = undefined;
    }

    const { outcome, label } = resolveOutcome(result, listFailure, unreachable);
    metrics.refreshes.inc({ outcome: label });
    metrics.refreshDuration.observe({ outcome: label }, (performance.now() - started) / 1000);
    logger.info(
      {
        outcome: label,
        pulled: result.pulled,
        failed: result.failed,
        recreated: result.recreated,
        durationMs: Math.round(performance.now() - started),
      },
      'refresh finished',
    );
    return outcome;
  }

  function assertAccepting(request: RefreshRequest): void {
    if (closing) throw shuttingDown();
    fence.check(request.epoch);
    if (queue.waiting >= options.queueLimit && !waiting.has(refreshKey(request))) {
      throw new AdminApiError(
        'TOO_MANY_REFRESHES',
        `too many refreshes waiting (${queue.waiting}); retry later`,
      );
    }
  }

  return {
    assertAccepting,

    refresh(request, call = {}) {
      try {
        assertAccepting(request);
      } catch (error) {
        return Promise.reject(error);
      }
      fence.accept(request.epoch);
      const key = refreshKey(request);
      const waitingFanout = waiting.get(key);
      const joined = waitingFanout === undefined ? undefined : queue.join(key, call.caller);
      if (waitingFanout !== undefined && joined !== undefined) {
        // An identical refresh is waiting: this caller gets its result and its events.
        if (call.onEvent !== undefined) waitingFanout.add(call.onEvent);
        call.onEvent?.({ event: 'joined' });
        return joined;
      }
      const fanout = new Set<EmitRefreshEvent>(call.onEvent === undefined ? [] : [call.onEvent]);
      const emit: EmitRefreshEvent = (event) => {
        for (const listener of fanout) {
          try {
            listener(event);
          } catch {
            // deliberately ignored: the refresh outlives its listeners
          }
        }
      };
      if (queue.busy) emit({ event: 'queued', waiting: queue.waiting + 1 });
      waiting.set(key, fanout);
      const outcome = queue.enqueue(
        key,
        () => {
          // Started: identical requests from now on queue behind it instead of joining.
          waiting.delete(key);
          // A newer leader may have taken over while this one waited: change nothing then.
          fence.check(request.epoch);
          return runRefresh(request, emit);
        },
        call.caller,
      );
      outcome.catch((error: unknown) => {
        if (waiting.get(key) === fanout) waiting.delete(key);
        if (error instanceof CallersGoneError) {
          metrics.refreshes.inc({ outcome: 'abandoned' });
          logger.info(
            { runtimes: request.runtimes },
            'refresh dropped unstarted: its callers have gone',
          );
        }
      });
      return outcome;
    },

    async listLocalImages() {
      return Promise.all(
        KNOWN_RUNTIMES.map(async (runtime) => {
          const image = runtimeImage(runtime, options.env) as string;
          try {
            return { runtime, image, local: await inspectLocalImage(docker, image) };
          } catch (error) {
            const unreachableNow = isEngineUnreachable(error);
            throw new AdminApiError(
              unreachableNow ? 'ENGINE_UNAVAILABLE' : 'ENGINE_ERROR',
              `inspect of ${image}: ${describeEngineError(error)}`,
              { cause: error },
            );
          }
        }),
      );
    },

    ping: pingEngine,

    get highestEpoch() {
      return fence.highest;
    },

    async drain(signal, at) {
      closing = true;
      cancelAt = at;
      waiting.clear();
      queue.rejectWaiting(shuttingDown());
      const onCancel = () => cancel.abort();
      if (signal.aborted) onCancel();
      else signal.addEventListener('abort', onCancel, { once: true });
      try {
        await queue.idle();
      } finally {
        signal.removeEventListener('abort', onCancel);
      }
    },
  };
}
