/** How the fake registry authenticates requests to `/v2/`. */
export type FakeAuthMode = 'none' | 'bearer' | 'bearer-external-realm' | 'basic';

/** Which route a request hit; the request log and fault matching use it. */
export type RequestKind = 'ping' | 'token' | 'manifest' | 'blob' | 'other';

export interface FakeUser {
  readonly username: string;
  readonly password: string;
}

/** An OAuth2 refresh token the token endpoint accepts (`identitytoken` in a Docker config). */
export interface FakeIdentityToken {
  readonly username: string;
  readonly refreshToken: string;
}

export interface FakeRegistryOptions {
  /** Default `'none'`. */
  auth?: FakeAuthMode;
  users?: ReadonlyArray<FakeUser>;
  /**
   * Whether requests without credentials may pull. Default: `true` when no `users` are
   * configured, `false` when there are.
   */
  allowAnonymousPull?: boolean;
  /** Lifetime of issued tokens, and the `expires_in` the token endpoint answers. Default 300. */
  tokenExpiresInSeconds?: number;
  /** Leave `expires_in` out of token responses (tokens still expire after `tokenExpiresInSeconds`). */
  omitExpiresIn?: boolean;
  /** Which fields a GET token response carries. Default `'both'` (`token` and `access_token`). */
  tokenResponseFields?: 'both' | 'token' | 'access_token';
  /** Refresh tokens accepted by `POST /token` with `grant_type=refresh_token`. */
  identityTokens?: ReadonlyArray<FakeIdentityToken>;
  /** The `service` in Bearer challenges. Default `'fake-registry'`. */
  service?: string;
  /** Added before every response (token endpoint included). Default 0. */
  latencyMs?: number;
}

/** Which credentials a request carried: never the secret itself. */
export interface PresentedCredentials {
  scheme: 'none' | 'basic' | 'bearer';
  /** Basic username, or the `username` of a token POST form. */
  username?: string;
  /** Short sha256 of the bearer token (or of a refresh token in a token POST); see `tokenId()`. */
  tokenId?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Query parameters; a repeated parameter (e.g. `scope`) is joined with a space. */
  query: Record<string, string>;
  /** Every value of every query parameter, in order. */
  queryAll: Record<string, string[]>;
  kind: RequestKind;
  /** Response status; 0 when the connection was reset by a fault. */
  status: number;
  presented: PresentedCredentials;
  /** Request headers without `authorization`, `proxy-authorization`, `cookie`, `x-registry-auth`. */
  headers: Record<string, string>;
  /** `grant_type` of a token POST. */
  grantType?: string;
  /** Which listener answered: the registry, or the external token realm. */
  origin: 'registry' | 'realm';
  /** `Date.now()` when the request arrived. */
  at: number;
}

export interface FaultMatch {
  /** Case-insensitive HTTP method. */
  method?: string;
  kind?: RequestKind;
  /** Exact pathname, or a pattern tested against the pathname. */
  path?: string | RegExp;
}

/**
 * What to do to a matching request. `status` and `reset` replace the response and apply as
 * the request arrives (before auth); `omitDigestHeader`, `wrongDigest`, `oversizedBodyBytes`
 * and `omitContentLength` change a successful response and are only used up by one.
 * `delayMs` waits before either.
 */
export interface Fault {
  status?: number;
  retryAfter?: string;
  delayMs?: number;
  omitDigestHeader?: boolean;
  wrongDigest?: boolean;
  /** The body is padded with spaces (or a body is made up) to this many bytes. */
  oversizedBodyBytes?: number;
  /** Send the body chunked, without `Content-Length`. */
  omitContentLength?: boolean;
  /** Destroy the socket without answering. */
  reset?: boolean;
  /** How many matching requests this fault applies to. Default: all. */
  times?: number;
}

export interface ManifestInput {
  mediaType: string;
  body: Buffer | string;
}

export interface RandomImageOptions {
  /** Docker schema 2 (default) or OCI media types. */
  format?: 'docker' | 'oci';
}

export interface FakeRegistry {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>` */
  readonly host: string;
  /** The token endpoint in the Bearer modes, else `undefined`. */
  readonly realmUrl: string | undefined;
  readonly service: string;
  /** Stores a blob; returns `sha256:<hex>`. */
  putBlob(content: Buffer | string): string;
  /** Stores a manifest and points `tag` at it; returns its digest. */
  putManifest(repository: string, tag: string, manifest: ManifestInput): string;
  /** A small valid image (config blob + one layer), a new digest on every call. */
  pushRandomImage(repository: string, tag?: string, options?: RandomImageOptions): string;
  digestOf(repository: string, tag: string): string | undefined;
  readonly requests: readonly RecordedRequest[];
  clearRequests(): void;
  fault(match: FaultMatch, fault: Fault): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  /** Forget every issued access token, so the next request with one gets 401 `invalid_token`. */
  revokeTokens(): void;
  /** Closes both listeners and destroys open (keep-alive) connections. */
  close(): Promise<void>;
}
