import { createHash } from 'node:crypto';
import type { Authenticator, Authorization, RegistryTarget } from './auth.js';
import { RegistryError } from './errors.js';
import { CONTENT_DIGEST, MANIFEST_ACCEPT } from './media-types.js';
import { errorForResponse } from './status-errors.js';
import { headerValue, type Transport, type TransportResponse } from './transport.js';
import type { ManifestDigest } from './types.js';

export interface ManifestDigestRequest {
  readonly transport: Transport;
  readonly authenticator: Authenticator;
  readonly target: RegistryTarget;
  readonly repository: string;
  /** A tag, or a digest (then the answer must match it). */
  readonly reference: string;
  readonly maxManifestBytes: number;
  readonly signal: AbortSignal;
}

/**
 * `HEAD /v2/<repository>/manifests/<reference>`; when the registry gives no usable
 * `Docker-Content-Digest`, `GET` the manifest and hash it. A digest we can check is checked.
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#checking-if-content-exists-in-the-registry
 */
export async function fetchManifestDigest(request: ManifestDigestRequest): Promise<ManifestDigest> {
  const expected = request.reference.includes(':') ? request.reference : undefined;
  const head = await sendAuthorized(request, 'HEAD');
  const headerDigest = headerValue(head.response.headers['docker-content-digest'])?.trim();
  const mediaType = contentType(head.response);
  if (headerDigest !== undefined && CONTENT_DIGEST.test(headerDigest) && mediaType !== undefined) {
    if (expected !== undefined && headerDigest !== expected) {
      throw mismatch(
        head.response,
        'HEAD',
        `the registry answered ${headerDigest} for ${expected}`,
      );
    }
    return { digest: headerDigest, mediaType };
  }

  const get = await sendAuthorized(request, 'GET');
  const body = get.response.body;
  if (body.length === 0) {
    throw new RegistryError({
      code: 'NO_DIGEST',
      method: 'GET',
      target: get.response.url.href,
      host: get.response.url.host,
      path: get.response.url.pathname,
      status: get.response.status,
      hint: 'no Docker-Content-Digest header and an empty manifest body; check the registry',
    });
  }
  const claimed = headerValue(get.response.headers['docker-content-digest'])?.trim() || expected;
  const algorithm = claimed?.startsWith('sha512:') ? 'sha512' : 'sha256';
  const computed = `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
  if (claimed !== undefined && claimed !== computed) {
    throw mismatch(
      get.response,
      'GET',
      `the manifest body hashes to ${computed}, not ${claimed}; the registry or a proxy altered it`,
    );
  }
  return { digest: computed, mediaType: contentType(get.response) ?? bodyMediaType(body) ?? '' };
}

/** One request with auth; a 401 learns the challenge and tries once more with fresh auth. */
async function sendAuthorized(
  request: ManifestDigestRequest,
  method: 'HEAD' | 'GET',
): Promise<{ response: TransportResponse; auth: Authorization }> {
  const scope = `repository:${request.repository}:pull`;
  const url = new URL(
    `/v2/${request.repository}/manifests/${request.reference}`,
    request.target.origin,
  );
  const send = (auth: Authorization) =>
    request.transport.send({
      method,
      url,
      headers: {
        accept: MANIFEST_ACCEPT,
        ...(auth.header === undefined ? {} : { authorization: auth.header }),
      },
      kind: 'manifest',
      maxBodyBytes: request.maxManifestBytes,
      signal: request.signal,
    });

  let auth = await request.authenticator.authorize(request.target, scope, {
    signal: request.signal,
  });
  let response = await send(auth);
  if (response.status === 401) {
    const learned = request.authenticator.learn(
      request.target,
      response.headers['www-authenticate'],
    );
    // Another attempt helps when we sent nothing, or a cached token that may have gone stale.
    const worthRetry = learned && (auth.header === undefined || auth.token !== undefined);
    if (worthRetry) {
      auth = await request.authenticator.authorize(request.target, scope, {
        signal: request.signal,
        ...(auth.token === undefined ? {} : { refusedToken: auth.token }),
      });
      if (auth.header !== undefined) response = await send(auth);
    }
  }
  if (response.status !== 200) {
    throw errorForResponse(response, {
      method,
      registryHost: request.target.host,
      kind: 'manifest',
      credential: auth.credential,
      reference: `${request.repository}${request.reference.includes(':') ? '@' : ':'}${request.reference}`,
    });
  }
  return { response, auth };
}

function contentType(response: TransportResponse): string | undefined {
  const value = headerValue(response.headers['content-type'])?.split(';')[0]?.trim();
  return value ? value : undefined;
}

function bodyMediaType(body: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    const mediaType = (parsed as { mediaType?: unknown }).mediaType;
    return typeof mediaType === 'string' ? mediaType : undefined;
  } catch {
    return undefined;
  }
}

function mismatch(response: TransportResponse, method: string, hint: string): RegistryError {
  return new RegistryError({
    code: 'DIGEST_MISMATCH',
    method,
    target: response.url.href,
    host: response.url.host,
    path: response.url.pathname,
    status: response.status,
    hint,
  });
}
