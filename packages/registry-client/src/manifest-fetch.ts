import { verifyContentDigest } from './content-digest.js';
import { requireManifestBody, requireManifestType } from './manifest-acceptance.js';
import type { ManifestMediaType } from './media-types.js';
import { describeReference, type RepositoryScope, sendAuthorized } from './repository-request.js';
import { responseError } from './status-errors.js';
import { headerValue } from './transport.js';
import type { ManifestContent } from './types.js';

export interface ManifestFetch {
  /** A tag, or a digest (then the body must hash to it). */
  readonly reference: string;
  /** Asked for in `Accept`, and the only types accepted back. */
  readonly accept: readonly ManifestMediaType[];
  readonly maxBytes: number;
}

/**
 * `GET /v2/<repository>/manifests/<reference>`: the exact bytes, once they pass the
 * acceptance rule (`manifest-acceptance.ts`) and every digest they are claimed to have (the
 * one asked for, `Docker-Content-Digest`).
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
 */
export async function fetchManifest(
  scope: RepositoryScope,
  fetch: ManifestFetch,
): Promise<ManifestContent> {
  // A tag never holds ':', so this is a digest; one of an algorithm we do not compute fails closed.
  const expected = fetch.reference.includes(':') ? fetch.reference : undefined;
  const { response } = await sendAuthorized(scope, {
    method: 'GET',
    resource: `manifests/${fetch.reference}`,
    accept: fetch.accept.join(', '),
    kind: 'manifest',
    maxBodyBytes: fetch.maxBytes,
    reference: describeReference(scope.repository, fetch.reference),
  });
  const mediaType = requireManifestType(response, 'GET', fetch.accept);
  if (response.body.length === 0) {
    throw responseError(
      'NO_DIGEST',
      response,
      'GET',
      'an empty manifest body (and no Docker-Content-Digest on HEAD); check the registry',
    );
  }
  requireManifestBody(response, 'GET', mediaType);
  const header = headerValue(response.headers['docker-content-digest'])?.trim();
  const digest = verifyContentDigest(response, 'GET', 'manifest', [expected, header]);
  return { digest, mediaType, body: response.body };
}
