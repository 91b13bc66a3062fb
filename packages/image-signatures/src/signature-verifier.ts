/**
 * The signed-image gate both services use: verify a digest of an image's repository on the
 * configured registry, through `@molecule/registry-client` (its credentials, limits, errors),
 * under the configured policy. Trusted verdicts are cached per repository and digest (a digest
 * never changes its bytes, and the keys are fixed for the process), so a steady tick costs
 * nothing; an untrusted or unsigned verdict is not cached, so a signature published later is
 * found on the next check. A registry that answers the referrers API with 404 is not asked it
 * again for ten minutes (the referrers tag schema is read instead).
 */
import type { RegistryClient } from '@molecule/registry-client';
import { createReferrersSupport } from './referrers-support.js';
import { createRegistrySignatureSource } from './registry-signature-source.js';
import type { SignaturePolicy } from './signature-policy.js';
import type { TrustVerdict } from './verdict.js';
import { verifyImageSignatures } from './verify-image-signatures.js';

export interface SignatureVerifierOptions {
  readonly client: Pick<RegistryClient, 'getManifest' | 'getBlob' | 'getReferrers'>;
  readonly policy: SignaturePolicy;
  /** How many trusted verdicts are kept (oldest dropped first). Default 1,000. */
  readonly cacheSize?: number;
}

export interface SignatureVerifier {
  readonly policy: SignaturePolicy;
  /**
   * The verdict for `digest` of `repository` (`host/path`, no tag). Throws the registry's error
   * when the registry cannot be read (a failure is not a verdict: try again later).
   */
  verify(
    repository: string,
    digest: string,
    options?: { signal?: AbortSignal },
  ): Promise<TrustVerdict>;
}

/**
 * @example
 * const verifier = createSignatureVerifier({ client, policy: parseSignaturePolicy(env) });
 * const verdict = await verifier.verify('registry.example.com/acme/workspace-template-codex', digest);
 */
export function createSignatureVerifier(options: SignatureVerifierOptions): SignatureVerifier {
  const { client, policy } = options;
  const cacheSize = Math.max(1, options.cacheSize ?? 1_000);
  const trusted = new Map<string, TrustVerdict>();
  // A registry without the referrers API is not asked again for a while (one request less per
  // verification, and per tick for a digest waiting for its signature).
  const referrers = createReferrersSupport();

  return {
    policy,
    async verify(repository, digest, { signal } = {}) {
      const key = `${repository}@${digest}`;
      const cached = trusted.get(key);
      if (cached !== undefined) return cached;
      const verdict = await verifyImageSignatures({
        source: createRegistrySignatureSource(client, repository, referrers),
        digest,
        policy,
        ...(signal === undefined ? {} : { signal }),
      });
      if (verdict.status === 'trusted') {
        trusted.set(key, verdict);
        if (trusted.size > cacheSize) trusted.delete(trusted.keys().next().value!);
      }
      return verdict;
    },
  };
}
