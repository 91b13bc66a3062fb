import { type ImageReference, ImageReferenceError, parseImageReference } from '@molecule/registry';
import type { Dispatcher } from 'undici';
import { withTimeout } from './abort.js';
import { createAuthenticator, type RegistryTarget } from './auth.js';
import { fetchBlob } from './blob-fetch.js';
import { RegistryError } from './errors.js';
import { apiHostFor } from './host-key.js';
import { createHostLimiter } from './host-limiter.js';
import { createHttpPolicy } from './http-policy.js';
import { fetchManifestDigest } from './manifest-digest.js';
import { fetchManifest } from './manifest-fetch.js';
import { MANIFEST_MEDIA_TYPES, type ManifestMediaType, manifestMediaType } from './media-types.js';
import { defaultLookupAll, type LookupAll } from './realm-guard.js';
import { fetchReferrers } from './referrers-fetch.js';
import type { RepositoryScope } from './repository-request.js';
import { type RetryOptions, resolveRetryOptions } from './retry-policy.js';
import { loadRegistrySettings, type RegistrySettings } from './settings.js';
import { createTokenCache } from './token-cache.js';
import { createTransport } from './transport.js';
import type { CredentialResolver, Env, RegistryClient, RegistryRequestEvent } from './types.js';

export interface RegistryClientOptions {
  /** Where credentials come from (usually `createCredentialResolver({ env })`). */
  readonly credentials: CredentialResolver;
  /** The registry variables, parsed at start by `loadRegistrySettings` (insecure hosts). */
  readonly settings?: Pick<RegistrySettings, 'insecureRegistries'>;
  /** Shorthand for `settings: loadRegistrySettings(env)` (throws on a bad value). */
  readonly env?: Env;
  /** Called after every HTTP request (ping, token, manifest, blob, referrers), for metrics and tests. */
  readonly onRequest?: (event: RegistryRequestEvent) => void;
  /** Requests in flight per registry origin, and pooled connections per origin (default 16). */
  readonly concurrencyPerHost?: number;
  /** Bound on one call (`getManifestDigest`, `getManifest`, …), including waiting and retries (default 60 s). */
  readonly requestTimeoutMs?: number;
  /** Bound on a ping or token fetch shared by concurrent callers (default 30 s). */
  readonly tokenTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
  readonly maxRedirects?: number;
  /** Manifests (and referrers answers) larger than this are refused (default 4 MiB). */
  readonly maxManifestBytes?: number;
  /** Blobs larger than this are refused by `getBlob` (default 4 MiB: it buffers them). */
  readonly maxBlobBytes?: number;
  readonly retry?: RetryOptions;
  /** Custom undici dispatcher (then not closed by `close()`). */
  readonly dispatcher?: Dispatcher;
  /** DNS lookup for the token realm SSRF rule (default `dns.lookup`, all addresses). */
  readonly lookup?: LookupAll;
  /** OAuth2 client id for refresh-token grants. */
  readonly clientId?: string;
  readonly now?: () => number;
}

/**
 * One long-lived client per process: it holds the token cache, the learned challenges and
 * the keep-alive pools, so steady-state checks cost one `HEAD` each.
 *
 * @example
 * const settings = loadRegistrySettings(process.env);
 * const client = createRegistryClient({ settings, credentials: createCredentialResolver({ settings }) });
 * const { digest } = await client.getManifestDigest('registry.example.com/molecule-ai/workspace-template-langgraph:latest');
 * await client.close();
 */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const settings = options.settings ?? loadRegistrySettings(options.env ?? process.env);
  const policy = createHttpPolicy(settings.insecureRegistries);
  const concurrency = Math.max(1, options.concurrencyPerHost ?? 16);
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const maxManifestBytes = options.maxManifestBytes ?? 4 * 1024 * 1024;
  const maxBlobBytes = options.maxBlobBytes ?? 4 * 1024 * 1024;
  const now = options.now ?? Date.now;
  const transport = createTransport({
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    connections: concurrency,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 30_000,
    maxRedirects: options.maxRedirects ?? 5,
    retry: resolveRetryOptions(options.retry),
    policy,
    onRequest: options.onRequest,
  });
  const authenticator = createAuthenticator({
    transport,
    credentials: options.credentials,
    policy,
    tokens: createTokenCache({ now }),
    lookup: options.lookup ?? defaultLookupAll,
    clientId: options.clientId ?? 'molecule-registry-client',
    tokenTimeoutMs: options.tokenTimeoutMs ?? 30_000,
    now,
  });
  const limiter = createHostLimiter(concurrency);
  let closed = false;

  function targetFor(domain: string): RegistryTarget {
    const apiHost = apiHostFor(domain);
    return { host: domain, origin: `${policy.schemeFor(apiHost)}://${apiHost}` };
  }

  /**
   * What every call shares: refused after `close()`, the reference parsed, one timeout over
   * queueing and retries, a slot of the origin's limiter. `plan` names the resource under
   * `/v2/<path>/` (for messages) and what to do with the repository.
   */
  function call<T>(
    ref: string,
    method: 'HEAD' | 'GET',
    callSignal: AbortSignal | undefined,
    plan: (parsed: ImageReference) => {
      resource: string;
      run: (scope: RepositoryScope) => Promise<T>;
    },
  ): Promise<T> {
    if (closed) {
      throw new RegistryError({
        code: 'CONFIG',
        method,
        target: ref,
        hint: 'the registry client is closed',
      });
    }
    const parsed = parseReference(ref);
    const { resource, run } = plan(parsed);
    const target = targetFor(parsed.domain);
    return withTimeout(
      requestTimeoutMs,
      callSignal,
      { method, target: `${target.origin}/v2/${parsed.path}/${resource}`, host: target.host },
      (signal) =>
        limiter.run(
          target.origin,
          () => run({ transport, authenticator, target, repository: parsed.path, signal }),
          signal,
        ),
    );
  }

  return {
    async getManifestDigest(ref, callOptions = {}) {
      return call(ref, 'HEAD', callOptions.signal, (parsed) => {
        const reference = parsed.digest ?? parsed.tag ?? 'latest';
        return {
          resource: `manifests/${reference}`,
          run: (scope) => fetchManifestDigest(scope, { reference, maxManifestBytes }),
        };
      });
    },
    async getManifest(ref, callOptions = {}) {
      const accept = acceptedTypes(ref, callOptions.accept);
      const maxBytes = Math.min(callOptions.maxBytes ?? maxManifestBytes, maxManifestBytes);
      return call(ref, 'GET', callOptions.signal, (parsed) => {
        const reference = parsed.digest ?? parsed.tag ?? 'latest';
        return {
          resource: `manifests/${reference}`,
          run: (scope) => fetchManifest(scope, { reference, accept, maxBytes }),
        };
      });
    },
    async getBlob(ref, callOptions = {}) {
      const maxBytes = Math.min(callOptions.maxBytes ?? maxBlobBytes, maxBlobBytes);
      return call(ref, 'GET', callOptions.signal, (parsed) => {
        const digest = requireDigest(ref, parsed, 'a blob');
        return {
          resource: `blobs/${digest}`,
          run: (scope) => fetchBlob(scope, { digest, maxBytes }),
        };
      });
    },
    async getReferrers(ref, callOptions = {}) {
      return call(ref, 'GET', callOptions.signal, (parsed) => {
        const digest = requireDigest(ref, parsed, 'the referrers list');
        return {
          resource: `referrers/${digest}`,
          run: (scope) => fetchReferrers(scope, { digest, maxBytes: maxManifestBytes }),
        };
      });
    },
    async close() {
      closed = true;
      await transport.close();
    },
  };
}

/** Blobs and referrers are named by digest: `host/path@sha256:…`. */
function requireDigest(ref: string, parsed: ImageReference, what: string): string {
  if (parsed.digest !== undefined) return parsed.digest;
  throw new RegistryError({
    code: 'CONFIG',
    method: 'PARSE',
    target: ref,
    hint: `${what} is named by digest; give host/path@sha256:<hex>`,
  });
}

/** `accept` as known manifest types (default all four); anything else is a caller's mistake. */
function acceptedTypes(
  ref: string,
  accept: readonly string[] | undefined,
): readonly ManifestMediaType[] {
  if (accept === undefined) return MANIFEST_MEDIA_TYPES;
  const types = accept.map((value) => manifestMediaType(value));
  if (types.length > 0 && types.every((type) => type !== undefined)) return [...new Set(types)];
  throw new RegistryError({
    code: 'CONFIG',
    method: 'GET',
    target: ref,
    hint: `accept must list manifest media types (${MANIFEST_MEDIA_TYPES.join(', ')}), got ${JSON.stringify(accept)}`,
  });
}

function parseReference(ref: string) {
  try {
    return parseImageReference(ref);
  } catch (error) {
    if (!(error instanceof ImageReferenceError)) throw error;
    throw new RegistryError({
      code: 'CONFIG',
      method: 'PARSE',
      target: ref,
      hint: `not a valid image reference (${error.message}); check MOLECULE_IMAGE_REGISTRY and the runtime name`,
      cause: error,
    });
  }
}
