/**
 * Bearer tokens by realm, service, scope and identity, each until shortly before it
 * expires. Identical fetches in flight are shared (single-flight): a thousand concurrent
 * checks of one repository fetch one token. Tokens are opaque strings here.
 */
export interface CachedToken {
  readonly token: string;
  /** Epoch ms after which the token is not used any more (renewal margin already applied). */
  readonly renewAt: number;
}

export interface TokenCache {
  /** The cached token, or a shared fetch of a new one. */
  getOrFetch(key: string, fetch: () => Promise<CachedToken>): Promise<CachedToken>;
  /** Drop `token` for `key` (after the registry refused it); a newer token is kept. */
  invalidate(key: string, token: string): void;
  readonly size: number;
}

export interface TokenCacheOptions {
  readonly now?: () => number;
  /** Oldest entries are dropped past this many (default 1 000). */
  readonly maxEntries?: number;
}

export function createTokenCache(options: TokenCacheOptions = {}): TokenCache {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 1000;
  const entries = new Map<string, CachedToken>();
  const inflight = new Map<string, Promise<CachedToken>>();

  return {
    getOrFetch(key, fetch) {
      const cached = entries.get(key);
      if (cached !== undefined && cached.renewAt > now()) return Promise.resolve(cached);
      const pending = inflight.get(key);
      if (pending !== undefined) return pending;
      const started = fetch().then(
        (token) => {
          inflight.delete(key);
          entries.delete(key);
          entries.set(key, token);
          while (entries.size > maxEntries) {
            const oldest = entries.keys().next().value;
            if (oldest === undefined) break;
            entries.delete(oldest);
          }
          return token;
        },
        (error: unknown) => {
          inflight.delete(key);
          throw error;
        },
      );
      inflight.set(key, started);
      return started;
    },
    invalidate(key, token) {
      if (entries.get(key)?.token === token) entries.delete(key);
    },
    get size() {
      return entries.size;
    },
  };
}

/** Cache key: the identity is a fingerprint, never the secret itself. */
export function tokenCacheKey(parts: {
  realm: string;
  service: string;
  scope: string;
  identity: string;
}): string {
  return [parts.realm, parts.service, parts.scope, parts.identity].join('\n');
}
