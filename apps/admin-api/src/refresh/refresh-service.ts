import {
  type Env,
  KNOWN_RUNTIMES,
  parseImageReference,
  type Runtime,
  runtimeImage,
} from '@molecule/registry';
import { type CredentialResolver, dockerRegistryAuth } from '@molecule/registry-client';
import type Docker from 'dockerode';
import {
  AdminApiError,
  describeEngineError,
  engineStatusOf,
  isEngineUnreachable,
} from '../errors.js';
import type { Metrics } from '../metrics.js';
import { mapLimit, SerialQueue } from './limit.js';
import { type PullProgress, pullImage } from './pull.js';
import { listWorkspaceContainers, planRecreate, stopAndRemove } from './recreate.js';

export interface RefreshRequest {
  readonly runtimes: readonly Runtime[];
  readonly recreate: boolean;
}

export type RefreshStage =
  | 'credentials'
  | 'pull'
  | 'verify'
  | 'list'
  | 'inspect'
  | 'stop'
  | 'remove';

/** One per-runtime or per-container failure; messages never carry credentials. */
export interface RefreshError {
  readonly stage: RefreshStage;
  readonly runtime?: Runtime;
  readonly container?: string;
  readonly code: string;
  readonly message: string;
}

export interface LocalImage {
  readonly id: string;
  readonly digest: string | null;
}

/** The response body of a refresh (SPEC: pulled, failed, recreated; the rest is additive). */
export interface RefreshResult {
  pulled: Runtime[];
  failed: Runtime[];
  recreated: string[];
  /** Containers of a pulled runtime already on the new image, left alone. */
  unchanged: string[];
  errors: RefreshError[];
  /** The image each pulled runtime now resolves to in the engine. */
  images: Partial<Record<Runtime, LocalImage>>;
}

export type RefreshEvent =
  | { event: 'queued'; waiting: number }
  | { event: 'started'; runtimes: Runtime[]; recreate: boolean }
  | ({ event: 'pull-progress'; runtime: Runtime } & PullProgressBody)
  | { event: 'pulled'; runtime: Runtime; image_id: string; digest: string | null }
  | { event: 'pull-failed'; runtime: Runtime; code: string; error: string }
  | { event: 'container-removed'; container: string; runtime: Runtime }
  | { event: 'container-failed'; container: string; stage: RefreshStage; error: string };

interface PullProgressBody {
  layers_done: number;
  layers_total: number;
  bytes_done: number;
  bytes_total: number;
}

/** `ok` → 200; `engine-error` (container listing failed) → 500; `engine-unavailable` → 503. */
export type RefreshOutcome =
  | { readonly status: 'ok'; readonly result: RefreshResult }
  | {
      readonly status: 'engine-error' | 'engine-unavailable';
      readonly error: string;
      readonly partialResult: RefreshResult;
    };

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
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

function emptyResult(): RefreshResult {
  return { pulled: [], failed: [], recreated: [], unchanged: [], errors: [], images: {} };
}

/** The RepoDigests entry (`repo@sha256:…`) for the image's own repository. */
export function digestForRepository(repoDigests: readonly string[], image: string): string | null {
  let wanted: string;
  try {
    const ref = parseImageReference(image);
    wanted = `${ref.domain}/${ref.path}`;
  } catch {
    return null;
  }
  for (const entry of repoDigests) {
    try {
      const ref = parseImageReference(entry);
      if (`${ref.domain}/${ref.path}` === wanted && ref.digest) return ref.digest;
    } catch {
      // an entry we cannot parse is not ours
    }
  }
  return null;
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

  async function inspectLocal(image: string): Promise<LocalImage | null> {
    try {
      const info = await docker.getImage(image).inspect();
      return { id: info.Id, digest: digestForRepository(info.RepoDigests ?? [], image) };
    } catch (error) {
      if (engineStatusOf(error) === 404) return null;
      throw error;
    }
  }

  async function runRefresh(
    request: RefreshRequest,
    emit: (event: RefreshEvent) => void,
  ): Promise<RefreshOutcome> {
    const started = performance.now();
    const result = emptyResult();
    let unreachable: string | undefined;
    emit({ event: 'started', runtimes: [...request.runtimes], recreate: request.recreate });

    // One credential for the configured registry host: the engine authenticates as it.
    let registryAuth: string | undefined;
    let credentialError: string | undefined;
    try {
      const credential = await options.credentials.resolve(options.registryHost, {
        signal: shutdown.signal,
      });
      registryAuth = dockerRegistryAuth(options.registryHost, credential);
    } catch (error) {
      credentialError = error instanceof Error ? error.message : String(error);
    }

    const pulledIds = new Map<Runtime, string>();
    await mapLimit(request.runtimes, options.pullConcurrency, async (runtime) => {
      const image = runtimeImage(runtime, options.env) as string;
      const fail = (stage: RefreshStage, code: string, message: string, outcome: string) => {
        result.failed.push(runtime);
        result.errors.push({ stage, runtime, code, message });
        metrics.pulls.inc({ runtime, outcome });
        emit({ event: 'pull-failed', runtime, code, error: message });
        logger.warn({ runtime, image, stage, code, err: message }, 'pull failed');
      };
      if (credentialError !== undefined) {
        fail(
          'credentials',
          'CREDENTIALS',
          `credentials for ${options.registryHost}: ${credentialError}`,
          'failed',
        );
        return;
      }
      if (shutdown.signal.aborted) {
        fail('pull', 'SHUTTING_DOWN', 'service is shutting down', 'failed');
        return;
      }
      const outcome = await pullImage(docker, {
        image,
        registryAuth,
        platform: options.platform,
        timeoutMs: options.pullTimeoutMs,
        signal: shutdown.signal,
        onProgress: (progress: PullProgress) =>
          emit({
            event: 'pull-progress',
            runtime,
            layers_done: progress.layersDone,
            layers_total: progress.layersTotal,
            bytes_done: progress.bytesDone,
            bytes_total: progress.bytesTotal,
          }),
      });
      if (!outcome.ok) {
        if (outcome.code === 'ENGINE_UNAVAILABLE') unreachable ??= outcome.message;
        const label =
          outcome.code === 'PULL_TIMEOUT'
            ? 'timeout'
            : outcome.code === 'ENGINE_UNAVAILABLE'
              ? 'engine_unavailable'
              : 'failed';
        fail('pull', outcome.code, outcome.message, label);
        return;
      }
      // Only an image the engine now has counts as pulled.
      let local: LocalImage | null;
      try {
        local = await inspectLocal(image);
      } catch (error) {
        const unreachableNow = isEngineUnreachable(error);
        if (unreachableNow) unreachable ??= describeEngineError(error);
        fail(
          'verify',
          unreachableNow ? 'ENGINE_UNAVAILABLE' : 'ENGINE_ERROR',
          `inspect of ${image} after pull: ${describeEngineError(error)}`,
          unreachableNow ? 'engine_unavailable' : 'failed',
        );
        return;
      }
      if (local === null) {
        fail(
          'verify',
          'IMAGE_MISSING',
          `engine reported ${image} pulled but does not have it`,
          'failed',
        );
        return;
      }
      pulledIds.set(runtime, local.id);
      result.pulled.push(runtime);
      result.images[runtime] = local;
      metrics.pulls.inc({ runtime, outcome: 'ok' });
      emit({ event: 'pulled', runtime, image_id: local.id, digest: local.digest });
      logger.info({ runtime, image, imageId: local.id, digest: local.digest }, 'image pulled');
    });
    // Report in KNOWN_RUNTIMES order whatever order the pulls finished in.
    const order = (a: Runtime, b: Runtime) => KNOWN_RUNTIMES.indexOf(a) - KNOWN_RUNTIMES.indexOf(b);
    result.pulled.sort(order);
    result.failed.sort(order);

    let listFailure: { error: string; unreachable: boolean } | undefined;
    if (request.recreate && pulledIds.size > 0) {
      try {
        const containers = await listWorkspaceContainers(docker);
        const plan = await planRecreate(docker, containers, pulledIds);
        result.unchanged.push(...plan.current);
        for (const issue of plan.issues) {
          result.errors.push({ ...issue, code: 'ENGINE_ERROR' });
          emit({
            event: 'container-failed',
            container: issue.container,
            stage: issue.stage,
            error: issue.message,
          });
        }
        await mapLimit(plan.targets, options.stopConcurrency ?? 8, async (target) => {
          const outcome = await stopAndRemove(docker, target, options.stopGraceSeconds);
          if (!outcome.ok) {
            result.errors.push({ ...outcome.issue, code: 'ENGINE_ERROR' });
            emit({
              event: 'container-failed',
              container: target.name,
              stage: outcome.issue.stage,
              error: outcome.issue.message,
            });
            logger.warn(
              { container: target.name, runtime: target.runtime, err: outcome.issue.message },
              'recreate failed',
            );
            return;
          }
          if (outcome.gone) return;
          result.recreated.push(target.name);
          metrics.containersRecreated.inc({ runtime: target.runtime });
          emit({ event: 'container-removed', container: target.name, runtime: target.runtime });
          logger.info(
            { container: target.name, runtime: target.runtime },
            'container removed for re-provisioning',
          );
        });
        result.recreated.sort();
      } catch (error) {
        const message = `listing ws-* containers failed: ${describeEngineError(error)}`;
        listFailure = { error: message, unreachable: isEngineUnreachable(error) };
        result.errors.push({
          stage: 'list',
          code: listFailure.unreachable ? 'ENGINE_UNAVAILABLE' : 'ENGINE_ERROR',
          message,
        });
      }
    }

    // A pull cut short may be a dropped connection rather than an engine that is gone:
    // only an engine that does not answer ping now is reported as unreachable.
    if (unreachable !== undefined && !listFailure && (await pingEngine(2000))) {
      unreachable = undefined;
    }

    let outcome: RefreshOutcome;
    let label: string;
    if (listFailure?.unreachable || (unreachable !== undefined && !listFailure)) {
      const error = listFailure?.error ?? `docker engine unreachable: ${unreachable}`;
      outcome = { status: 'engine-unavailable', error, partialResult: result };
      label = 'engine_unavailable';
    } else if (listFailure) {
      outcome = { status: 'engine-error', error: listFailure.error, partialResult: result };
      label = 'engine_error';
    } else {
      outcome = { status: 'ok', result };
      label = result.failed.length > 0 || result.errors.length > 0 ? 'partial' : 'ok';
    }
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
      const emit = (event: RefreshEvent): void => {
        if (!onEvent) return;
        try {
          onEvent(event);
        } catch {
          // a listener's failure (e.g. a gone client) never disturbs the refresh
        }
      };
      if (queue.busy) emit({ event: 'queued', waiting: queue.waiting + 1 });
      return queue.run(() => runRefresh(request, emit));
    },

    async listLocalImages() {
      return Promise.all(
        KNOWN_RUNTIMES.map(async (runtime) => {
          const image = runtimeImage(runtime, options.env) as string;
          try {
            return { runtime, image, local: await inspectLocal(image) };
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
