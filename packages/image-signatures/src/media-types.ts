/**
 * The media types, annotation keys and URIs of cosign's two signature layouts, in one place.
 */

/** Spec: https://github.com/opencontainers/image-spec/blob/main/media-types.md */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

/**
 * Layer of a legacy `.sig` manifest; its blob is the simple-signing payload.
 * Spec: https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md
 */
export const SIMPLE_SIGNING_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** Layer annotation holding the base64 signature over the exact layer bytes. */
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** `critical.type` of a simple-signing payload (containers/image checks it too). */
export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

/**
 * A sigstore bundle v0.3, as the referring manifest's `artifactType` and its layer type.
 * Spec: https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto
 */
export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The same version in the spelling the bundle spec also allows inside the bundle. */
export const SIGSTORE_BUNDLE_V03_ALT = 'application/vnd.dev.sigstore.bundle+json;version=0.3';

/** Spec: https://github.com/in-toto/attestation/blob/main/spec/v1/envelope.md */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Spec: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
/**
 * What `cosign sign` (v3, bundle format) signs: a statement with this predicate type and no
 * predicate. Attestations (`cosign attest`) carry other predicate types and are not
 * signatures of the image.
 */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

/**
 * Tag of the legacy signature manifest for a digest: `sha256-<hex>.sig`.
 * Spec: https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md#tag-based-discovery
 */
export function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/**
 * Tag of the referrers index for registries without the referrers API: `sha256-<hex>`.
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#referrers-tag-schema
 */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}
