import { InvalidDigestError, isSha256Digest } from '@molecule/registry';
import type { CheckContext } from './check-context.js';
import type { SignaturePolicy } from './signature-policy.js';
import type { SignatureSource } from './signature-source.js';
import { decideVerdict, type TrustVerdict } from './verdict.js';
import { checkSigstoreBundles } from './verify-sigstore-bundle.js';
import { checkSimpleSigning } from './verify-simple-signing.js';

export interface VerifyImageSignaturesOptions {
  /** The image's own repository on the configured registry, read with its credentials. */
  readonly source: SignatureSource;
  /** The digest to decide on, `sha256:<64 hex>`: a manifest or an image index. */
  readonly digest: string;
  readonly policy: Pick<SignaturePolicy, 'keys' | 'threshold'>;
  readonly signal?: AbortSignal;
}

/**
 * Whether at least `threshold` distinct configured keys made a valid signature for exactly
 * `digest`, in either of cosign's formats: sigstore bundle v0.3 referrers, and the legacy
 * `sha256-<hex>.sig` tag. Both are read concurrently. Keys only: no transparency log, no
 * timestamps, no certificates (see the README).
 *
 * The verdict is a value. A failure of the source (network, 401, 5xx) is not a verdict: it is
 * thrown unchanged, and the other format's reads are aborted.
 *
 * @example
 * const verdict = await verifyImageSignatures({ source, digest, policy });
 * if (verdict.status !== 'trusted') log.warn({ reason: verdict.reason, detail: verdict.detail }, 'untrusted digest');
 */
export async function verifyImageSignatures(
  options: VerifyImageSignaturesOptions,
): Promise<TrustVerdict> {
  const { digest, policy } = options;
  if (!isSha256Digest(digest)) {
    throw new InvalidDigestError(digest, 'signatures are looked up by sha256 digest');
  }
  if (!Number.isSafeInteger(policy.threshold) || policy.threshold < 1) {
    throw new RangeError(`threshold must be an integer ≥ 1, got ${policy.threshold}`);
  }
  const stop = new AbortController();
  const signal =
    options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  const context: CheckContext = { source: options.source, digest, keys: policy.keys, signal };
  try {
    const [bundles, simple] = await Promise.all([
      checkSigstoreBundles(context),
      checkSimpleSigning(context),
    ]);
    return decideVerdict(digest, [...bundles, ...simple], policy.threshold);
  } finally {
    // After the first failure nothing else read matters; free the registry connections.
    stop.abort();
  }
}
