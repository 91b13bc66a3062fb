import { raceSignal, withTimeout } from './abort.js';
import { credentialFingerprint } from './credentials/fingerprint.js';
import { isRegistryError, RegistryError } from './errors.js';
import type { HttpPolicy } from './http-policy.js';
import { checkTokenRealm, type LookupAll } from './realm-guard.js';
import { errorForResponse } from './status-errors.js';
import { type TokenCache, tokenCacheKey } from './token-cache.js';
import { fetchToken } from './token-fetch.js';
import type { Transport } from './transport.js';
import type { CredentialResolver, RegistryCredential } from './types.js';
import { type AuthChallenge, parseWwwAuthenticate } from './www-authenticate.js';

/**
 * Challenge-driven auth: what a registry wants is learned from its `WWW-Authenticate`
 * (on `/v2/` once per origin, and from any later 401), never from its name.
 */
export type Challenge =
  | { readonly scheme: 'none' }
  | { readonly scheme: 'basic' }
  | { readonly scheme: 'bearer'; readonly realm: URL; readonly service: string | undefined };

/** Where a registry is: `host` as configured (credentials are keyed by it), `origin` to call. */
export interface RegistryTarget {
  readonly host: string;
  readonly origin: string;
}

export interface Authorization {
  /** `Authorization` header value, or `undefined` to send none. */
  readonly header: string | undefined;
  readonly credential: RegistryCredential;
  /** The bearer token used, so a refusal can invalidate exactly it. */
  readonly token?: string;
  readonly challenge: Challenge;
}

export interface Authenticator {
  authorize(
    target: RegistryTarget,
    scope: string,
    options: { signal?: AbortSignal; refusedToken?: string },
  ): Promise<Authorization>;
  /** Records the challenge of a 401; `true` when it names a scheme we can answer. */
  learn(target: RegistryTarget, header: string | string[] | undefined): boolean;
}

export interface AuthenticatorOptions {
  readonly transport: Transport;
  readonly credentials: CredentialResolver;
  readonly policy: HttpPolicy;
  readonly tokens: TokenCache;
  readonly lookup: LookupAll;
  readonly clientId: string;
  readonly tokenTimeoutMs: number;
  readonly now: () => number;
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const challenges = new Map<string, Promise<Challenge>>();

  function challengeFor(target: RegistryTarget, signal?: AbortSignal): Promise<Challenge> {
    let pending = challenges.get(target.origin);
    if (pending === undefined) {
      pending = ping(target);
      challenges.set(target.origin, pending);
      pending.catch(() => challenges.delete(target.origin));
    }
    return raceSignal(pending, signal);
  }

  /** `GET /v2/`, shared by every caller of this origin; bounded by its own timeout. */
  async function ping(target: RegistryTarget): Promise<Challenge> {
    const url = new URL('/v2/', target.origin);
    return withTimeout(
      options.tokenTimeoutMs,
      undefined,
      { method: 'GET', target: url.href, host: url.host },
      async (signal) => {
        const response = await options.transport.send({
          method: 'GET',
          url,
          kind: 'ping',
          maxBodyBytes: 64 * 1024,
          signal,
        });
        if (response.status === 200) return { scheme: 'none' };
        if (response.status === 401) {
          const challenge = toChallenge(
            parseWwwAuthenticate(response.headers['www-authenticate']),
            url,
          );
          if (challenge !== undefined) return challenge;
          throw new RegistryError({
            code: 'UNAUTHORIZED',
            method: 'GET',
            target: url.href,
            host: url.host,
            path: url.pathname,
            status: 401,
            statusText: 'Unauthorized',
            hint: 'the registry sent no Bearer or Basic challenge this client can answer',
          });
        }
        throw errorForResponse(response, {
          method: 'GET',
          registryHost: target.host,
          kind: 'ping',
          credential: { kind: 'anonymous' },
        });
      },
    );
  }

  async function resolveCredential(target: RegistryTarget, signal?: AbortSignal) {
    try {
      return await options.credentials.resolve(target.host, signal ? { signal } : {});
    } catch (error) {
      if (isRegistryError(error) || signal?.aborted) throw error;
      throw new RegistryError({
        code: 'CONFIG',
        method: 'CREDENTIALS',
        target: target.host,
        host: target.host,
        hint: 'resolving credentials failed; check the Docker config and credential helpers',
        cause: error,
      });
    }
  }

  function bearerToken(
    target: RegistryTarget,
    challenge: Extract<Challenge, { scheme: 'bearer' }>,
    scope: string,
    credential: RegistryCredential,
    refusedToken: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const key = tokenCacheKey({
      realm: challenge.realm.href,
      service: challenge.service ?? '',
      scope,
      identity: credentialFingerprint(credential),
    });
    if (refusedToken !== undefined) options.tokens.invalidate(key, refusedToken);
    // The shared fetch is not tied to any one caller's signal; each caller only stops waiting.
    const shared = options.tokens.getOrFetch(key, () =>
      withTimeout(
        options.tokenTimeoutMs,
        undefined,
        { method: 'GET', target: challenge.realm.href, host: challenge.realm.host },
        async (ownSignal) => {
          await checkTokenRealm({
            registryHost: target.host,
            realm: challenge.realm,
            policy: options.policy,
            lookup: options.lookup,
          });
          return fetchToken({
            transport: options.transport,
            policy: options.policy,
            realm: challenge.realm,
            service: challenge.service,
            scope,
            registryHost: target.host,
            credential,
            clientId: options.clientId,
            now: options.now,
            signal: ownSignal,
          });
        },
      ),
    );
    return raceSignal(shared, signal).then((cached) => cached.token);
  }

  return {
    async authorize(target, scope, { signal, refusedToken }) {
      const challenge = await challengeFor(target, signal);
      if (challenge.scheme === 'none') {
        return { header: undefined, credential: { kind: 'anonymous' }, challenge };
      }
      const credential = await resolveCredential(target, signal);
      if (challenge.scheme === 'basic') {
        return { header: basicHeader(credential), credential, challenge };
      }
      const token = await bearerToken(target, challenge, scope, credential, refusedToken, signal);
      return { header: `Bearer ${token}`, credential, token, challenge };
    },
    learn(target, header) {
      const challenge = toChallenge(parseWwwAuthenticate(header), new URL(target.origin));
      if (challenge === undefined) return false;
      challenges.set(target.origin, Promise.resolve(challenge));
      return true;
    },
  };
}

function basicHeader(credential: RegistryCredential): string | undefined {
  if (credential.kind === 'anonymous') return undefined;
  const secret = credential.kind === 'basic' ? credential.password : credential.identityToken;
  return `Basic ${Buffer.from(`${credential.username}:${secret}`).toString('base64')}`;
}

/** Bearer (with a usable realm) wins over Basic; anything else is unanswerable. */
function toChallenge(parsed: readonly AuthChallenge[], base: URL): Challenge | undefined {
  for (const challenge of parsed) {
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) continue;
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm, base);
    } catch {
      continue;
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') continue;
    return { scheme: 'bearer', realm, service: challenge.params.service };
  }
  if (parsed.some((challenge) => challenge.scheme === 'basic')) return { scheme: 'basic' };
  return undefined;
}
