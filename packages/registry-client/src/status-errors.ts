import { RegistryError, type RegistryErrorCode, STATUS_TEXT } from './errors.js';
import type { TransportResponse } from './transport.js';
import type { CredentialSource, RegistryCredential } from './types.js';

/** What the request was for, so the message can say what to check. */
export interface ResponseContext {
  readonly method: string;
  /** The registry host as configured (credentials are looked up under it). */
  readonly registryHost: string;
  readonly kind: 'ping' | 'token' | 'manifest' | 'blob' | 'referrers';
  readonly credential: RegistryCredential;
  /** `repository:tag` or `repository@digest`, for requests about a repository. */
  readonly reference?: string;
}

const SOURCE_LABEL: Readonly<Record<CredentialSource, string>> = {
  env: 'MOLECULE_REGISTRY_USERNAME/MOLECULE_REGISTRY_PASSWORD',
  'env-legacy': 'GHCR_USER/GHCR_TOKEN',
  'docker-config': 'the Docker config file (auths)',
  'credential-helper': 'a Docker credential helper',
  ecr: 'ECR GetAuthorizationToken',
};

/** Where a response came from, as every RegistryError about it names it. */
function responseFields(response: TransportResponse, method: string) {
  return {
    method,
    target: response.url.href,
    host: response.url.host,
    path: response.url.pathname,
    status: response.status,
    statusText: STATUS_TEXT[response.status],
  };
}

/**
 * A RegistryError about `response` (a success whose content is wrong: no digest, a bad
 * manifest, a digest mismatch, an unusable token answer), naming its host, path and status.
 */
export function responseError(
  code: RegistryErrorCode,
  response: TransportResponse,
  method: string,
  hint: string,
): RegistryError {
  return new RegistryError({ ...responseFields(response, method), code, hint });
}

/** The typed error for a response that is not a success. */
export function errorForResponse(
  response: TransportResponse,
  context: ResponseContext,
): RegistryError {
  const { status } = response;
  const base = responseFields(response, context.method);
  if (status === 401 || status === 403) {
    return new RegistryError({ ...base, code: 'UNAUTHORIZED', hint: unauthorizedHint(context) });
  }
  if (status === 404) {
    return new RegistryError({ ...base, code: 'NOT_FOUND', hint: notFoundHint(context) });
  }
  if (status === 429) {
    const after =
      response.retryAfterMs === undefined
        ? ''
        : ` (Retry-After ${Math.ceil(response.retryAfterMs / 1000)} s)`;
    return new RegistryError({
      ...base,
      code: 'RATE_LIMITED',
      ...(response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs }),
      hint: `rate limited by ${context.registryHost}${after}; check less often or authenticate for a higher limit`,
    });
  }
  if (status >= 500) {
    return new RegistryError({
      ...base,
      code: 'UNAVAILABLE',
      ...(response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs }),
      hint: `${context.registryHost} is failing; try again later or check the registry's status`,
    });
  }
  return new RegistryError({
    ...base,
    code: 'BAD_RESPONSE',
    hint: `unexpected status for a ${context.kind} request; check that ${context.registryHost} is an OCI distribution registry`,
  });
}

function unauthorizedHint(context: ResponseContext): string {
  const host = context.registryHost;
  if (context.credential.kind === 'anonymous') {
    return `no credentials found for ${host}; set MOLECULE_REGISTRY_USERNAME/PASSWORD or configure a Docker credential helper`;
  }
  const what = context.reference === undefined ? 'pull from it' : `pull ${context.reference}`;
  return `${host} refused the credentials from ${SOURCE_LABEL[context.credential.source]}; check they are valid and allowed to ${what}`;
}

function notFoundHint(context: ResponseContext): string {
  switch (context.kind) {
    case 'manifest':
      return `manifest unknown; check that ${context.reference ?? 'the image'} exists on ${context.registryHost}`;
    case 'blob':
      return `blob unknown; check that ${context.reference ?? 'the blob'} exists in that repository on ${context.registryHost}`;
    case 'referrers':
      return `${context.registryHost} has no referrers API for ${context.reference ?? 'the image'}`;
    case 'token':
      return `token endpoint not found; check the realm in ${context.registryHost}'s WWW-Authenticate challenge`;
    case 'ping':
      return `no registry API at /v2/; check MOLECULE_IMAGE_REGISTRY points at a registry`;
  }
}
