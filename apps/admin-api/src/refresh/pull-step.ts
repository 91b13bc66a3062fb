import {
  type Env,
  KNOWN_RUNTIMES,
  pinnedImage,
  type Runtime,
  runtimeImage,
} from '@molecule/registry';
import { type CredentialResolver, dockerRegistryAuth } from '@molecule/registry-client';
import { type Logger, mapLimit } from '@molecule/service-kit';
import type Docker from 'dockerode';
import { describeEngineError, isEngineUnreachable } from '../engine/engine-errors.js';
import { type PullProgress, pullImage } from '../engine/image-pull.js';
import { holdsDigest, inspectLocalImage, type LocalImage, tagImage } from '../engine/images.js';
import type { Metrics } from '../metrics.js';
import type { EmitRefreshEvent } from './events.js';
import type { RefreshError, RefreshErrorCode, RefreshResult, RefreshStage } from './result.js';

/**
 * The pull step of a refresh: each runtime's image through the engine, with the registry
 * credentials as `X-Registry-Auth`, then a check that the engine really has it.
 */
export interface PullStepOptions {
  readonly docker: Docker;
  readonly credentials: CredentialResolver;
  readonly registryHost: string;
  readonly platform: string;
  readonly env: Env;
  readonly pullTimeoutMs: number;
  readonly pullConcurrency: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Aborted on service shutdown: pulls not yet started fail, running ones are cut short. */
  readonly signal: AbortSignal;
  readonly emit: EmitRefreshEvent;
  /**
   * Called as soon as a runtime's pull is verified (the engine has it as `imageId`), while
   * other runtimes may still pull: not awaited, so it does not hold a pull slot.
   */
  readonly onPulled?: ((runtime: Runtime, imageId: string) => void) | undefined;
}

export interface PullStepResult
  extends Pick<RefreshResult, 'pulled' | 'failed' | 'errors' | 'images'> {
  /** Why the engine looked unreachable during the pulls, if it did; not yet confirmed. */
  readonly unreachable: string | undefined;
}

type RegistryAuth =
  | { readonly ok: true; readonly header: string | undefined }
  | { readonly ok: false; readonly message: string };

/** One credential for the configured registry host: the engine authenticates as it. */
async function resolveRegistryAuth(options: PullStepOptions): Promise<RegistryAuth> {
  try {
    const credential = await options.credentials.resolve(options.registryHost, {
      signal: options.signal,
    });
    return { ok: true, header: dockerRegistryAuth(options.registryHost, credential) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Pull each runtime's image (at most `pullConcurrency` at once) and verify the engine now
 * has it. Every runtime ends up in `pulled` or `failed`, both in KNOWN_RUNTIMES order.
 *
 * A runtime pinned to a digest (`digest=`, or the verified digest of the signed-image gate):
 * pull `<repository>@<digest>`, check the engine's RepoDigests hold that digest, and tag it as
 * the runtime's `:latest` reference, so every host that gets the same call runs the same
 * bytes, whatever the tag did meanwhile.
 */
export async function runPullStep(
  runtimes: readonly Runtime[],
  options: PullStepOptions,
  pins: ReadonlyMap<Runtime, string> = new Map(),
): Promise<PullStepResult> {
  const { docker, metrics, logger, emit } = options;
  const pulled: Runtime[] = [];
  const failed: Runtime[] = [];
  const errors: RefreshError[] = [];
  const images: Partial<Record<Runtime, LocalImage>> = {};
  let unreachable: string | undefined;

  const auth = await resolveRegistryAuth(options);
  await mapLimit(runtimes, options.pullConcurrency, async (runtime) => {
    const image = runtimeImage(runtime, options.env) as string;
    const digest = pins.get(runtime);
    const source = digest === undefined ? image : pinnedImage(runtime, digest, options.env);
    const fail = (
      stage: RefreshStage,
      code: RefreshErrorCode,
      message: string,
      outcome: string,
    ) => {
      failed.push(runtime);
      errors.push({ stage, runtime, code, message });
      metrics.pulls.inc({ runtime, outcome });
      emit({ event: 'pull-failed', runtime, code, error: message });
      logger.warn({ runtime, image, stage, code, err: message }, 'pull failed');
    };
    if (!auth.ok) {
      fail(
        'credentials',
        'CREDENTIALS',
        `credentials for ${options.registryHost}: ${auth.message}`,
        'failed',
      );
      return;
    }
    if (options.signal.aborted) {
      fail('pull', 'SHUTTING_DOWN', 'not pulled: the service is shutting down', 'aborted');
      return;
    }
    const outcome = await pullImage(docker, {
      image: source,
      registryAuth: auth.header,
      platform: options.platform,
      timeoutMs: options.pullTimeoutMs,
      signal: options.signal,
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
      const label = PULL_OUTCOME_LABEL[outcome.code];
      fail('pull', outcome.code, outcome.message, label);
      return;
    }
    // Only an image the engine now has counts as pulled (by digest: that very digest, now
    // tagged as the runtime's reference).
    let local: LocalImage | null;
    try {
      if (digest !== undefined) {
        if (!(await holdsDigest(docker, source, digest))) {
          fail(
            'verify',
            'IMAGE_MISSING',
            `engine reported ${source} pulled but its RepoDigests do not hold ${digest}`,
            'failed',
          );
          return;
        }
        await tagImage(docker, source, image);
      }
      local = await inspectLocalImage(docker, image);
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
    pulled.push(runtime);
    images[runtime] = local;
    metrics.pulls.inc({ runtime, outcome: 'ok' });
    emit({ event: 'pulled', runtime, image_id: local.id, digest: local.digest });
    logger.info({ runtime, image, imageId: local.id, digest: local.digest }, 'image pulled');
    options.onPulled?.(runtime, local.id);
  });
  // Report in KNOWN_RUNTIMES order whatever order the pulls finished in.
  const order = (a: Runtime, b: Runtime) => KNOWN_RUNTIMES.indexOf(a) - KNOWN_RUNTIMES.indexOf(b);
  pulled.sort(order);
  failed.sort(order);
  return { pulled, failed, errors, images, unreachable };
}

/** `outcome` label of `admin_api_pulls_total` for each pull failure. */
const PULL_OUTCOME_LABEL = {
  PULL_FAILED: 'failed',
  PULL_TIMEOUT: 'timeout',
  PULL_ABORTED: 'aborted',
  ENGINE_UNAVAILABLE: 'engine_unavailable',
} as const;
