import { z } from 'zod';
import { RegistryError } from './errors.js';
import type { HttpPolicy } from './http-policy.js';
import { errorForResponse, responseError } from './status-errors.js';
import type { CachedToken } from './token-cache.js';
import type { Transport, TransportResponse } from './transport.js';
import type { RegistryCredential } from './types.js';

/**
 * Token response of the Docker token auth spec and its OAuth2 variant.
 * Spec: https://distribution.github.io/distribution/spec/auth/token/
 * and https://distribution.github.io/distribution/spec/auth/oauth/
 */
export const TokenResponseSchema = z.object({
  token: z.string().nullish(),
  access_token: z.string().nullish(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).nullish(),
  issued_at: z.string().nullish(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** The spec's minimum and default lifetime when `expires_in` is absent or shorter. */
export const MIN_TOKEN_LIFETIME_S = 60;
/** Token responses are small; anything bigger is not a token server. */
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

/**
 * When to stop using a token: `issued_at + expires_in` when `issued_at` is believable (present,
 * not in the future, not already expired), else `now + expires_in`; minus a renewal margin
 * of 10 % of the lifetime, at most 30 s. The token itself is never decoded.
 */
export function tokenRenewAt(response: TokenResponse, now: number): number {
  const lifetimeMs = Math.max(MIN_TOKEN_LIFETIME_S, response.expires_in ?? 0) * 1000;
  let start = now;
  if (response.issued_at) {
    const issued = Date.parse(response.issued_at);
    if (!Number.isNaN(issued) && issued <= now && issued + lifetimeMs > now) start = issued;
  }
  const margin = Math.min(30_000, lifetimeMs / 10);
  return start + lifetimeMs - margin;
}

export interface TokenRequest {
  readonly transport: Transport;
  readonly policy: HttpPolicy;
  readonly realm: URL;
  readonly service: string | undefined;
  readonly scope: string;
  /** The registry host as configured, for messages and the plain-http rule. */
  readonly registryHost: string;
  readonly credential: RegistryCredential;
  /** OAuth2 `client_id` for refresh-token grants. */
  readonly clientId: string;
  readonly now: () => number;
  readonly signal?: AbortSignal;
}

/**
 * Fetches a bearer token. Basic credentials go on a GET with `account`, `service`, `scope`;
 * identity tokens use the OAuth2 refresh grant (POST form), falling back to GET with the
 * token as Basic password when the realm answers 404/405 (registries without OAuth).
 */
export async function fetchToken(request: TokenRequest): Promise<CachedToken> {
  const { credential, realm } = request;
  if (!plainHttpAllowed(request)) {
    throw new RegistryError({
      code: 'CONFIG',
      method: 'GET',
      target: realm.href,
      host: realm.host,
      path: realm.pathname,
      hint: `token realm is plain http on a host that does not qualify for http; credentials for ${request.registryHost} only go over https (plain http is for loopback hosts and MOLECULE_INSECURE_REGISTRIES)`,
    });
  }

  let response: TransportResponse;
  let method: 'GET' | 'POST' = 'GET';
  if (credential.kind === 'identity-token') {
    method = 'POST';
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: request.clientId });
    if (request.service) form.set('service', request.service);
    form.set('scope', request.scope);
    form.set('refresh_token', credential.identityToken);
    response = await request.transport.send({
      method: 'POST',
      url: realm,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      kind: 'token',
      maxBodyBytes: MAX_TOKEN_RESPONSE_BYTES,
      ...(request.signal ? { signal: request.signal } : {}),
    });
    if (response.status === 404 || response.status === 405) {
      method = 'GET';
      response = await getToken(request, credential.username, credential.identityToken);
    }
  } else if (credential.kind === 'basic') {
    response = await getToken(request, credential.username, credential.password);
  } else {
    response = await getToken(request, undefined, undefined);
  }

  if (response.status !== 200) {
    throw errorForResponse(response, {
      method,
      registryHost: request.registryHost,
      kind: 'token',
      credential,
    });
  }
  return parseTokenBody(response, method, request);
}

/** https always; plain http only to a qualifying host, or the registry's own host name when the registry qualifies. */
function plainHttpAllowed(request: TokenRequest): boolean {
  if (request.policy.mayCarryCredentials(request.realm)) return true;
  // Same host name as a registry that itself qualifies for http (another port is fine).
  const registry = new URL(`http://${request.registryHost}`);
  return (
    request.realm.protocol === 'http:' &&
    request.realm.hostname === registry.hostname &&
    request.policy.allowsPlainHttp(request.registryHost)
  );
}

function getToken(
  request: TokenRequest,
  username: string | undefined,
  password: string | undefined,
): Promise<TransportResponse> {
  const url = new URL(request.realm);
  if (username !== undefined) url.searchParams.set('account', username);
  if (request.service) url.searchParams.set('service', request.service);
  url.searchParams.set('scope', request.scope);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (username !== undefined && password !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  return request.transport.send({
    method: 'GET',
    url,
    headers,
    kind: 'token',
    maxBodyBytes: MAX_TOKEN_RESPONSE_BYTES,
    ...(request.signal ? { signal: request.signal } : {}),
  });
}

function parseTokenBody(
  response: TransportResponse,
  method: string,
  request: TokenRequest,
): CachedToken {
  const bad = (hint: string) => responseError('BAD_RESPONSE', response, method, hint);
  let json: unknown;
  try {
    json = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw bad('token response is not JSON; check the realm in the WWW-Authenticate challenge');
  }
  const parsed = TokenResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw bad(
      'token response does not match the token auth spec (token, access_token, expires_in)',
    );
  }
  const token = parsed.data.token || parsed.data.access_token;
  if (!token) throw bad('token response has neither token nor access_token');
  return { token, renewAt: tokenRenewAt(parsed.data, request.now()) };
}
