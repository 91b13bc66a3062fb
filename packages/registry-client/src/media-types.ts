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

export type ManifestMediaType = (typeof MANIFEST_MEDIA_TYPES)[number];

export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

export const OCI_INDEX: ManifestMediaType = 'application/vnd.oci.image.index.v1+json';

/**
 * What a body of each type must hold: an index (OCI index, Docker manifest list) lists
 * `manifests`; an image manifest (OCI, Docker schema 2) has a `config` and `layers`.
 * Spec: https://github.com/opencontainers/image-spec/blob/main/image-index.md,
 * https://github.com/opencontainers/image-spec/blob/main/manifest.md,
 * https://distribution.github.io/distribution/spec/manifest-v2-2/
 */
export const MANIFEST_KIND: Readonly<Record<ManifestMediaType, 'index' | 'image'>> = {
  'application/vnd.oci.image.index.v1+json': 'index',
  'application/vnd.oci.image.manifest.v1+json': 'image',
  'application/vnd.docker.distribution.manifest.list.v2+json': 'index',
  'application/vnd.docker.distribution.manifest.v2+json': 'image',
};

/** `sha256:<64 hex>` or `sha512:<128 hex>`; the algorithms registries use. */
export const CONTENT_DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/**
 * The media type of a `Content-Type` value: parameters dropped, lower case (media types are
 * case-insensitive, RFC 9110 §8.3.1); `undefined` when there is none.
 */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/** The known manifest type `value` names (any case, parameters ignored), or `undefined`. */
export function manifestMediaType(value: string | undefined): ManifestMediaType | undefined {
  const type = mediaTypeOf(value);
  return MANIFEST_MEDIA_TYPES.find((known) => known === type);
}
