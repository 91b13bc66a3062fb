/**
 * The manifest media types asked for on every manifest request. Distribution answers 404
 * for an OCI manifest when the OCI types are missing, and a platform child instead of the
 * list when the list type is missing, so all four are always sent.
 * Spec: https://github.com/opencontainers/image-spec/blob/main/media-types.md
 */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

/** `sha256:<64 hex>` or `sha512:<128 hex>`; the algorithms registries use. */
export const CONTENT_DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
