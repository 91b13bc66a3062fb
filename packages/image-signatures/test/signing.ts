import {
  type CosignArtifact,
  type CosignKeyPair,
  cosignSignatureTag,
  createReferringManifest,
  createSigManifest,
  createSigstoreBundle,
  createSimpleSignature,
  OCI_MANIFEST,
  type SimpleSignature,
} from '@molecule/real-parts';
import { parseSigningKeys, type SigningKey } from '../src/signing-keys.js';
import type { FakeSource } from './fake-signature-source.js';

/** The verifier's view of a builder key pair. */
export function verifierKey(key: CosignKeyPair): SigningKey {
  return parseSigningKeys(key.publicKeyPem, `${key.algorithm}.pub`)[0]!;
}

/** Pushes a `.sig` manifest with `signatures` at the digest's `.sig` tag. */
export function pushSimpleSignatures(
  fake: FakeSource,
  digest: string,
  signatures: readonly SimpleSignature[],
): CosignArtifact {
  const sig = createSigManifest(signatures);
  fake.push(sig, cosignSignatureTag(digest));
  return sig;
}

/** Pushes a legacy signature of `digest` by each key, as one `.sig` manifest. */
export function signSimple(
  fake: FakeSource,
  digest: string,
  ...keys: CosignKeyPair[]
): CosignArtifact {
  return pushSimpleSignatures(
    fake,
    digest,
    keys.map((key) => createSimpleSignature({ key, digest })),
  );
}

/**
 * Pushes `bundle` as a referrer of `digest` and rewrites the tag schema index (for
 * registries without the referrers API), as cosign 3 does.
 */
export function pushBundle(
  fake: FakeSource,
  digest: string,
  bundle: Buffer,
  options: { artifactType?: string } = {},
): CosignArtifact {
  const referrer = createReferringManifest({
    subject: { digest, mediaType: OCI_MANIFEST, size: 500 },
    bundle,
    created: '2026-01-01T00:00:00Z',
    ...options,
  });
  fake.push(referrer);
  fake.writeTagIndex(digest);
  return referrer;
}

/** Pushes a bundle signature of `digest` by `key` (cosign 3's default format). */
export function signBundle(fake: FakeSource, digest: string, key: CosignKeyPair): CosignArtifact {
  return pushBundle(fake, digest, createSigstoreBundle({ key, digest }));
}
