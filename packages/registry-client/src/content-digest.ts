import { createHash } from 'node:crypto';
import type { RegistryError } from './errors.js';
import { responseError } from './status-errors.js';
import type { TransportResponse } from './transport.js';

/**
 * `<algorithm>:<hex>` of `body`, in the algorithm `like` uses (sha512 for a `sha512:` digest,
 * else sha256, the registries' default).
 * Spec: https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
 */
export function contentDigest(body: Buffer, like?: string): string {
  const algorithm = like?.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
}

/**
 * Checks `body` against every digest it is claimed to have (the one asked for, the
 * registry's `Docker-Content-Digest`); returns the body's digest in the algorithm of the
 * first claim. A claim the body does not meet is `DIGEST_MISMATCH`.
 */
export function verifyContentDigest(
  response: TransportResponse,
  method: string,
  what: string,
  claims: readonly (string | undefined)[],
): string {
  const present = claims.filter((claim): claim is string => claim !== undefined && claim !== '');
  for (const claim of present) {
    const computed = contentDigest(response.body, claim);
    if (computed !== claim) {
      throw digestMismatch(
        response,
        method,
        `the ${what} body hashes to ${computed}, not ${claim}; the registry or a proxy altered it`,
      );
    }
  }
  return contentDigest(response.body, present[0]);
}

export function digestMismatch(
  response: TransportResponse,
  method: string,
  hint: string,
): RegistryError {
  return responseError('DIGEST_MISMATCH', response, method, hint);
}
