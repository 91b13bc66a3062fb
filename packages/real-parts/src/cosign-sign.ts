/**
 * Sign an image the way cosign does, and push the signatures to a registry over its HTTP API:
 * the legacy `.sig` tag (`signImageLegacy`) or sigstore bundles as OCI 1.1 referrers listed by
 * the referrers tag schema index (`signImageWithBundles`: what cosign 3 writes to a registry
 * without the referrers API, such as distribution 2.8).
 */
import {
  artifactDescriptor,
  type CosignArtifact,
  type CosignKeyPair,
  cosignReferrersTag,
  cosignSignatureTag,
  createReferrersIndex,
  createReferringManifest,
  createSigManifest,
  createSigstoreBundle,
  createSimpleSignature,
  type SubjectDescriptor,
} from './cosign.js';
import { pushArtifact } from './push.js';

export interface SignTarget {
  /** `http://127.0.0.1:5000` */
  readonly registryUrl: string;
  readonly repository: string;
  readonly credentials?: { username: string; password: string };
}

function push(target: SignTarget, reference: string, artifact: CosignArtifact): Promise<string> {
  return pushArtifact({
    registryUrl: target.registryUrl,
    repository: target.repository,
    reference,
    manifest: artifact.manifest,
    mediaType: artifact.mediaType,
    blobs: artifact.blobs,
    ...(target.credentials === undefined ? {} : { credentials: target.credentials }),
  });
}

/** One `.sig` manifest at `sha256-<hex>.sig` holding a simple-signing layer per key. */
export async function signImageLegacy(
  target: SignTarget & { digest: string; keys: readonly CosignKeyPair[]; dockerReference?: string },
): Promise<void> {
  const signatures = target.keys.map((key) =>
    createSimpleSignature({
      key,
      digest: target.digest,
      dockerReference: target.dockerReference ?? `registry.invalid/${target.repository}`,
    }),
  );
  await push(target, cosignSignatureTag(target.digest), createSigManifest(signatures));
}

/** A bundle referrer per key, pushed by digest, and the referrers tag index listing them. */
export async function signImageWithBundles(
  target: SignTarget & { subject: SubjectDescriptor; keys: readonly CosignKeyPair[] },
): Promise<void> {
  const referrers = target.keys.map((key) =>
    createReferringManifest({
      subject: target.subject,
      bundle: createSigstoreBundle({ key, digest: target.subject.digest }),
    }),
  );
  for (const referrer of referrers) await push(target, referrer.digest, referrer);
  await push(
    target,
    cosignReferrersTag(target.subject.digest),
    createReferrersIndex(referrers.map(artifactDescriptor)),
  );
}
