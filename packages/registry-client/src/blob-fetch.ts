import { verifyContentDigest } from './content-digest.js';
import { describeReference, type RepositoryScope, sendAuthorized } from './repository-request.js';

export interface BlobFetch {
  /** `sha256:<hex>` (or `sha512:`): the body must hash to it. */
  readonly digest: string;
  readonly maxBytes: number;
}

/**
 * `GET /v2/<repository>/blobs/<digest>`, the body checked against the digest. Registries
 * often answer with a redirect to blob storage (S3, a CDN); the transport follows it and
 * drops `Authorization` on the hop to another origin. Any `Content-Type` is fine: a blob's
 * bytes are what its digest says, nothing else is trusted.
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-blobs
 */
export async function fetchBlob(scope: RepositoryScope, fetch: BlobFetch): Promise<Buffer> {
  const { response } = await sendAuthorized(scope, {
    method: 'GET',
    resource: `blobs/${fetch.digest}`,
    kind: 'blob',
    maxBodyBytes: fetch.maxBytes,
    reference: describeReference(scope.repository, fetch.digest),
  });
  verifyContentDigest(response, 'GET', 'blob', [fetch.digest]);
  return response.body;
}
