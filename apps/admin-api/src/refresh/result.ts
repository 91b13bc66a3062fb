import type { Runtime } from '@molecule/registry';
import type { LocalImage } from '../engine/images.js';

export type RefreshStage =
  | 'trust'
  | 'credentials'
  | 'pull'
  | 'verify'
  | 'list'
  | 'inspect'
  | 'stop'
  | 'remove';

/** Why one runtime or container of a refresh failed (the `code` of its `errors` entry). */
export type RefreshErrorCode =
  /** Resolving the registry credentials failed (Docker config, credential helper, ECR). */
  | 'CREDENTIALS'
  /** The engine refused the pull or reported an error in its stream. */
  | 'PULL_FAILED'
  | 'PULL_TIMEOUT'
  /** Our own shutdown cut the pull short. */
  | 'PULL_ABORTED'
  /** The engine reported the pull done but does not have the image. */
  | 'IMAGE_MISSING'
  | 'ENGINE_UNAVAILABLE'
  | 'ENGINE_ERROR'
  /** Not started: the service is shutting down. */
  | 'SHUTTING_DOWN'
  /** The signed-image gate (enforce) found too few valid signatures: nothing pulled. */
  | 'UNTRUSTED_IMAGE'
  /** The registry could not be read to resolve or verify the digest. */
  | 'REGISTRY_ERROR';

/** One per-runtime or per-container failure; messages never carry credentials. */
export interface RefreshError {
  readonly stage: RefreshStage;
  readonly runtime?: Runtime;
  readonly container?: string;
  readonly code: RefreshErrorCode;
  readonly message: string;
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

/** `ok` → 200; `engine-error` (container listing failed) → 500; `engine-unavailable` → 503. */
export type RefreshOutcome =
  | { readonly status: 'ok'; readonly result: RefreshResult }
  | {
      readonly status: 'engine-error' | 'engine-unavailable';
      readonly error: string;
      readonly partialResult: RefreshResult;
    };

/** Listing the ws-* containers failed, so the recreate phase could not be carried out. */
export interface ListFailure {
  readonly error: string;
  readonly unreachable: boolean;
}

/** The `outcome` label of the refresh metrics and the `refresh finished` log line. */
export type OutcomeLabel = 'ok' | 'partial' | 'engine_error' | 'engine_unavailable';

/**
 * Classify a finished refresh. `unreachable` is why the engine looked gone during the pulls
 * (already confirmed by a failed ping); a list failure decides the outcome before it does.
 */
export function resolveOutcome(
  result: RefreshResult,
  listFailure: ListFailure | undefined,
  unreachable: string | undefined,
): { readonly outcome: RefreshOutcome; readonly label: OutcomeLabel } {
  if (listFailure?.unreachable || (unreachable !== undefined && !listFailure)) {
    const error = listFailure?.error ?? `docker engine unreachable: ${unreachable}`;
    return {
      outcome: { status: 'engine-unavailable', error, partialResult: result },
      label: 'engine_unavailable',
    };
  }
  if (listFailure) {
    return {
      outcome: { status: 'engine-error', error: listFailure.error, partialResult: result },
      label: 'engine_error',
    };
  }
  const label = result.failed.length > 0 || result.errors.length > 0 ? 'partial' : 'ok';
  return { outcome: { status: 'ok', result }, label };
}
