/**
 * The signed-image gate of a refresh (SPEC "Signed-image gate"): with signatures checked, each
 * runtime's digest is decided before anything is pulled: the `digest=` asked for, or the tag
 * resolved on the registry; then verified. With `enforce` an untrusted digest is `failed`
 * with `UNTRUSTED_IMAGE` and nothing is pulled or removed for that runtime (also when called
 * by hand); with `warn` it is logged and pulled; the runtime is then pulled by that digest.
 */

import type { SignatureVerifier } from '@molecule/image-signatures';
import { type Env, parseImageReference, type Runtime, runtimeImage } from '@molecule/registry';
import { isRegistryError, type RegistryClient } from '@molecule/registry-client';
import type { Logger } from '@molecule/service-kit';
import type { Metrics } from '../metrics.js';
import type { EmitRefreshEvent } from './events.js';
import type { RefreshError } from './result.js';

export interface TrustStepOptions {
  readonly verifier: SignatureVerifier | undefined;
  readonly registry: Pick<RegistryClient, 'getManifestDigest'> | undefined;
  readonly env: Env;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly emit: EmitRefreshEvent;
}

export interface TrustStepResult {
  /** The digest each runtime is pulled by (the ones asked for when the gate is off). */
  readonly pins: ReadonlyMap<Runtime, string>;
  /** Runtimes refused (untrusted, or the registry could not be read): not pulled. */
  readonly refused: readonly RefreshError[];
}

export async function runTrustStep(
  runtimes: readonly Runtime[],
  requested: string | undefined,
  options: TrustStepOptions,
): Promise<TrustStepResult> {
  const pins = new Map<Runtime, string>();
  const refused: RefreshError[] = [];
  const { verifier, registry, metrics, logger, emit } = options;
  if (verifier === undefined || verifier.policy.mode === 'off') {
    if (requested !== undefined) for (const runtime of runtimes) pins.set(runtime, requested);
    return { pins, refused };
  }
  const refuse = (runtime: Runtime, code: RefreshError['code'], message: string) => {
    refused.push({ stage: 'trust', runtime, code, message });
    emit({ event: 'pull-failed', runtime, code, error: message });
    logger.warn({ runtime, code, err: message }, 'not pulled: signature check');
  };
  await Promise.all(
    runtimes.map(async (runtime) => {
      const image = runtimeImage(runtime, options.env) as string;
      const reference = parseImageReference(image);
      try {
        const digest =
          requested ??
          (await registry!.getManifestDigest(image, { signal: options.signal })).digest;
        const verdict = await verifier.verify(`${reference.domain}/${reference.path}`, digest, {
          signal: options.signal,
        });
        const reason = verdict.status === 'trusted' ? 'OK' : verdict.reason;
        metrics.signatureVerifications.inc({ outcome: verdict.status, reason });
        if (verdict.status === 'trusted' || verifier.policy.mode === 'warn') {
          if (verdict.status !== 'trusted') {
            logger.warn(
              { runtime, digest, reason, detail: verdict.detail },
              'untrusted image (warn mode: pulling it anyway)',
            );
          }
          pins.set(runtime, digest);
          return;
        }
        refuse(
          runtime,
          'UNTRUSTED_IMAGE',
          `${image}@${digest} is ${verdict.status} (${reason}): ${verdict.detail}`,
        );
      } catch (error) {
        if (!isRegistryError(error)) throw error;
        metrics.signatureVerifications.inc({ outcome: 'error', reason: error.code });
        refuse(runtime, 'REGISTRY_ERROR', `signature check of ${image}: ${error.message}`);
      }
    }),
  );
  return { pins, refused };
}
