import { digestMismatch } from './content-digest.js';
import { acceptedMediaType } from './manifest-acceptance.js';
import { fetchManifest } from './manifest-fetch.js';
import { CONTENT_DIGEST, MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES } from './media-types.js';
import { describeReference, type RepositoryScope, sendAuthorized } from './repository-request.js';
import { headerValue } from './transport.js';
import type { ManifestDigest } from './types.js';

export interface ManifestDigestRequest {
  /** A tag, or a digest (then the answer must match it). */
  readonly reference: string;
  readonly maxManifestBytes: number;
}

/**
 * `HEAD /v2/<repository>/manifests/<reference>`: its `Docker-Content-Digest` is the answer
 * when the HEAD's `Content-Type` is a manifest type. Otherwise (no digest header, no or
 * another Content-Type) `GET` the manifest, which must pass the acceptance rule, and hash it.
 * A digest we can check is checked.
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#checking-if-content-exists-in-the-registry
 */
export async function fetchManifestDigest(
  scope: RepositoryScope,
  request: ManifestDigestRequest,
): Promise<ManifestDigest> {
  const expected = request.reference.includes(':') ? request.reference : undefined;
  const head = await sendAuthorized(scope, {
    method: 'HEAD',
    resource: `manifests/${request.reference}`,
    accept: MANIFEST_ACCEPT,
    kind: 'manifest',
    maxBodyBytes: request.maxManifestBytes,
    reference: describeReference(scope.repository, request.reference),
  });
  const headerDigest = headerValue(head.response.headers['docker-content-digest'])?.trim();
  const mediaType = acceptedMediaType(head.response, MANIFEST_MEDIA_TYPES);
  if (headerDigest !== undefined && CONTENT_DIGEST.test(headerDigest) && mediaType !== undefined) {
    if (expected !== undefined && headerDigest !== expected) {
      throw digestMismatch(
        head.response,
        'HEAD',
        `the registry answered ${headerDigest} for ${expected}`,
      );
    }
    return { digest: headerDigest, mediaType };
  }

  const manifest = await fetchManifest(scope, {
    reference: request.reference,
    accept: MANIFEST_MEDIA_TYPES,
    maxBytes: request.maxManifestBytes,
  });
  return { digest: manifest.digest, mediaType: manifest.mediaType };
}
