/**
 * The signed-image gate in the watch loop (SPEC "Signed-image gate"): before a moved digest is
 * rolled out, its signatures are verified (`@molecule/image-signatures`, trusted verdicts
 * cached per digest, so a steady tick stays one HEAD per runtime). With `enforce` an untrusted
 * digest is not rolled out and is reported once per digest; with `warn` it is reported and
 * rolled out; with `off` nothing is asked. A registry that cannot be read is neither: the
 * check fails and the next tick tries again.
 */

import type { SignatureVerifier, TrustVerdict } from '@molecule/image-signatures';
import { parseImageReference } from '@molecule/registry';
import { isRegistryError } from '@molecule/registry-client';
import type { Logger } from '@molecule/service-kit';
import type { WatchTarget } from '../config.js';
import type { Metrics } from '../metrics.js';
import { shortDigest } from './decide.js';

export type TrustOutcome =
  | { readonly kind: 'off' }
  | { readonly kind: 'verdict'; readonly verdict: TrustVerdict; readonly allowed: boolean }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string };

export interface TrustGate {
  /** Whether `digest` of `target` may be rolled out, and why. */
  judge(target: WatchTarget, digest: string, signal: AbortSignal): Promise<TrustOutcome>;
}

export function createTrustGate(deps: {
  verifier: SignatureVerifier | undefined;
  logger: Logger;
  metrics: Metrics;
}): TrustGate {
  const { verifier, logger, metrics } = deps;
  /** The last digest reported untrusted per reference: reported once per digest. */
  const reported = new Map<string, string>();

  return {
    async judge(target, digest, signal) {
      if (verifier === undefined || verifier.policy.mode === 'off') return { kind: 'off' };
      const reference = parseImageReference(target.image);
      let verdict: TrustVerdict;
      try {
        verdict = await verifier.verify(`${reference.domain}/${reference.path}`, digest, {
          signal,
        });
      } catch (error) {
        if (!isRegistryError(error)) throw error;
        metrics.signatureVerifications.inc({ outcome: 'error', reason: error.code });
        return { kind: 'failed', code: error.code, message: error.message };
      }
      const reason = verdict.status === 'trusted' ? 'OK' : verdict.reason;
      metrics.signatureVerifications.inc({ outcome: verdict.status, reason });
      if (verdict.status === 'trusted') {
        reported.delete(target.image);
        return { kind: 'verdict', verdict, allowed: true };
      }
      const enforce = verifier.policy.mode === 'enforce';
      if (reported.get(target.image) !== digest) {
        reported.set(target.image, digest);
        metrics.untrustedDigests.inc({ runtime: target.runtime });
        logger.warn(
          {
            runtime: target.runtime,
            image: target.image,
            digest: shortDigest(digest),
            status: verdict.status,
            reason: verdict.reason,
            detail: verdict.detail,
            mode: verifier.policy.mode,
          },
          enforce
            ? 'untrusted digest: not rolling it out (a signature published later is found on a later check)'
            : 'untrusted digest (warn mode: rolling it out anyway)',
        );
      }
      return { kind: 'verdict', verdict, allowed: !enforce };
    },
  };
}
