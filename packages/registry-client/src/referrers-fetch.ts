import { requireManifestBody, requireManifestType } from './manifest-acceptance.js';
import { OCI_INDEX } from './media-types.js';
import { describeReference, type RepositoryScope, sendAuthorized } from './repository-request.js';

export interface ReferrersFetch {
  /** The digest whose referrers are listed. */
  readonly digest: string;
  readonly maxBytes: number;
}

const OK_OR_ABSENT: ReadonlySet<number> = new Set([200, 404]);

/**
 * `GET /v2/<repository>/referrers/<digest>` (OCI distribution 1.1): the OCI index body, or
 * `undefined` on 404, which is how a registry without the API answers (callers then read the
 * referrers tag schema). A 200 must be an OCI index by `Content-Type` and body, like any
 * manifest (`manifest-acceptance.ts`).
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers
 */
export async function fetchReferrers(
  scope: RepositoryScope,
  fetch: ReferrersFetch,
): Promise<Buffer | undefined> {
  const { response } = await sendAuthorized(scope, {
    method: 'GET',
    resource: `referrers/${fetch.digest}`,
    accept: OCI_INDEX,
    kind: 'referrers',
    maxBodyBytes: fetch.maxBytes,
    reference: describeReference(scope.repository, fetch.digest),
    okStatuses: OK_OR_ABSENT,
  });
  if (response.status === 404) return undefined;
  requireManifestBody(response, 'GET', requireManifestType(response, 'GET', [OCI_INDEX]));
  return response.body;
}
