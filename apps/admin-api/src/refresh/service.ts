import { type Env, KNOWN_RUNTIMES, type Runtime, runtimeImage } from '@molecule/registry';
import type { CredentialResolver } from '@molecule/registry-client';
import type Docker from 'dockerode';
import { AdminApiError, describeEngineError, isEngineUnreachable } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { SerialQueue } from './limit.js';
import { inspectLocalImage, type LocalImage } from './local-image.js';
import type { Logger } from './logger.js';
import { runPullPhase } from './pull-phase.js';
import { runRecreatePhase } from './recreate-phase.js';
import { createEmitter, type EmitRefreshEvent, type RefreshEvent } from './refresh-events.js';
import { type RefreshOutcome, type RefreshResult, resolveOutcome } from './refresh-result.js';

export { digestForRepository, type LocalImage } from './local-image.js';
export type { Logger } from './logger.js';
export type { RefreshEvent } from './refresh-events.js';
export type {
  RefreshError,
  RefreshOutcome,
  RefreshResult,
  RefreshStage,
} from './refresh-result.js';

export interface RefreshRequest {
  readonly runtimes: readonly Runtime[];
  readonly recreate: boolean;
}

export interface RefreshServiceOptions {
  readonly docker: Docker;
  readonly credentials: CredentialResolver;
  readonly registryHost: string;
  readonly platform: string;
  readonly env: Env;
  readonly stopGraceSeconds: number;
  readonly pullTimeoutMs: number;
  readonly pullConcurrency: number;
  readonly queueLimit: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** How many containers are stopped at once (each may take the whole grace period). */
  readonly stopConcurrency?: number;
}

export interface RefreshService {
  /** Throws the 429/503 AdminApiError `refresh` would reject with right now. */
  assertAccepting(): void;
  /** Queue a refresh; resolves with its own complete outcome. Throws 429/503 AdminApiErrors. */
  refresh(
    request: RefreshRequest,
    onEvent?: (event: RefreshEvent) => void,
  ): Promise<RefreshOutcome>;
  /** The engine's copy of each known runtime's image (`local: null` when absent). */
  listLocalImages(): Promise<Array<{ runtime: Runtime; image: string; local: LocalImage | null }>>;
  /** Resolves true when the engine answers `_ping`. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** Refuse new refreshes, let queued ones finish for up to `timeoutMs`, then abort pulls. */
  close(timeoutMs: number): Promise<void>;
}

export function createRefreshService(options: RefreshServiceOptions): RefreshService {
  const { docker, metrics, logger } = options;
  const queue = new SerialQueue();
  const shutdown = new AbortController();
  let closing = false;

  async function pingEngine(timeoutMs = 2000): Promise<boolean> {
    try {
      await docker.ping({ abortSignal: AbortSignal.timeout(timeoutMs) } as never);
      return true;
    } catch {
      return false;
    }
  }

  async function runRefresh(
    request: RefreshRequest,
    emit: EmitRefreshEvent,
  ): Promise<RefreshOutcome> {
    const started = performance.now();
    emit({ event: 'started', runtimes: [...request.runtimes], recreate: request.recreate });

    const pull = await runPullPhase(request.runtimes, {
      docker,
      credentials: options.credentials,
      registryHost: options.registryHost,
      platform: options.platform,
      env: options.env,
      pullTimeoutMs: options.pullTimeoutMs,
      pullConcurrency: options.pullConcurrency,
      metrics,
      logger,
      signal: shutdown.signal,
      emit,
    });
    const recreate =
      request.recreate && pull.pulledIds.size > 0
        ? await runRecreatePhase(pull.pulledIds, {
            docker,
            stopGraceSeconds: options.stopGraceSeconds,
            stopConcurrency: options.stopConcurrency ?? 8,
            metrics,
            logger,
            emit,
          })
        : undefined;
    const result: RefreshResult = {
      pulled: pull.pulled,
      failed: pull.failed,
      recreated: recreate?.recreated ?? [],
      unchanged: recreate?.unchanged ?? [],
      errors: [...pull.errors, ...(recreate?.errors ?? [])],
      images: pull.images,
    };
    const listFailure = recreate?.listFailure;

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

  function assertAccepting(): void {
    if (closing) {
      throw new AdminApiError('SHUTTING_DOWN', 'service is shutting down', { statusCode: 503 });
    }
    if (queue.waiting >= options.queueLimit) {
      throw new AdminApiError(
        'TOO_MANY_REFRESHES',
        `too many refreshes waiting (${queue.waiting}); retry later`,
        { statusCode: 429 },
      );
    }
  }

  return {
    assertAccepting,

    refresh(request, onEvent) {
      try {
        assertAccepting();
      } catch (error) {
        return Promise.reject(error);
      }
      const emit = createEmitter(onEvent);
      if (queue.busy) emit({ event: 'queued', waiting: queue.waiting + 1 });
      return queue.run(() => runRefresh(request, emit));
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
              { statusCode: unreachableNow ? 503 : 500, cause: error },
            );
          }
        }),
      );
    },

    ping: pingEngine,

    async close(timeoutMs) {
      closing = true;
      const timer = setTimeout(() => shutdown.abort(), timeoutMs);
      timer.unref();
      try {
        await queue.idle();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
