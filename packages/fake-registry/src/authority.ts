import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Authorization } from './credentials.js';
import type { FakeAuthMode, FakeIdentityToken, FakeUser } from './types.js';

/** `repository:<name>:<actions>` as in https://distribution.github.io/distribution/spec/auth/scope/ */
export interface Scope {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

interface IssuedToken {
  readonly username: string | undefined;
  readonly scopes: readonly Scope[];
  readonly expiresAt: number;
}

export interface Need {
  readonly repository?: string;
  readonly actions: readonly string[];
}

export type Decision =
  | { readonly ok: true }
  | { readonly ok: false; readonly error?: 'invalid_token' | 'insufficient_scope' };

export type Grant =
  | {
      readonly ok: true;
      readonly token: string;
      readonly scopes: readonly Scope[];
      readonly expiresInSeconds: number;
      readonly refreshToken?: string;
    }
  | { readonly ok: false; readonly status: 400 | 401; readonly message: string };

export interface AuthorityOptions {
  readonly mode: FakeAuthMode;
  readonly users: ReadonlyArray<FakeUser>;
  readonly identityTokens: ReadonlyArray<FakeIdentityToken>;
  readonly allowAnonymousPull: boolean;
  readonly tokenExpiresInSeconds: number;
  readonly service: string;
}

const ANONYMOUS_ACTIONS = new Set(['pull']);
const USER_ACTIONS = new Set(['pull', 'push', 'delete', '*']);

export function parseScopes(values: readonly string[]): Scope[] {
  const scopes: Scope[] = [];
  for (const value of values) {
    for (const item of value.split(' ')) {
      // Actions never contain ':', so the name is everything between the first and last one.
      const first = item.indexOf(':');
      const last = item.lastIndexOf(':');
      if (first <= 0 || last === first) continue;
      scopes.push({
        type: item.slice(0, first),
        name: item.slice(first + 1, last),
        actions: item
          .slice(last + 1)
          .split(',')
          .filter((action) => action !== ''),
      });
    }
  }
  return scopes;
}

export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(',')}`;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Users, issued tokens and the decisions built on them. */
export class Authority {
  readonly #options: AuthorityOptions;
  readonly #tokens = new Map<string, IssuedToken>();
  readonly #refreshTokens = new Map<string, string>();

  constructor(options: AuthorityOptions) {
    this.#options = options;
    for (const identity of options.identityTokens) {
      this.#refreshTokens.set(identity.refreshToken, identity.username);
    }
  }

  get mode(): FakeAuthMode {
    return this.#options.mode;
  }

  checkUser(username: string, password: string): boolean {
    return this.#options.users.some(
      (user) => safeEqual(user.username, username) && safeEqual(user.password, password),
    );
  }

  /** Decides a `/v2/` request. `need.repository` is absent for the ping. */
  authorize(auth: Authorization, need: Need, now: number): Decision {
    const { mode, allowAnonymousPull } = this.#options;
    if (mode === 'none') return { ok: true };
    if (mode === 'basic') {
      if (auth.scheme === 'basic') return { ok: this.checkUser(auth.username, auth.password) };
      const anonymousOk =
        allowAnonymousPull && need.actions.every((action) => ANONYMOUS_ACTIONS.has(action));
      return { ok: anonymousOk };
    }
    if (auth.scheme !== 'bearer') return { ok: false };
    const issued = this.#tokens.get(auth.token);
    if (!issued || issued.expiresAt <= now) return { ok: false, error: 'invalid_token' };
    if (need.repository === undefined) return { ok: true };
    const granted = new Set(
      issued.scopes
        .filter((scope) => scope.type === 'repository' && scope.name === need.repository)
        .flatMap((scope) => scope.actions),
    );
    const ok = granted.has('*') || need.actions.every((action) => granted.has(action));
    return ok ? { ok: true } : { ok: false, error: 'insufficient_scope' };
  }

  /**
   * Issues an access token for `username` (already authenticated by the caller) or for an
   * anonymous client; grants the requested actions the identity may have.
   */
  grant(
    username: string | undefined,
    requested: readonly Scope[],
    now: number,
    offline = false,
  ): Grant {
    if (username === undefined && !this.#options.allowAnonymousPull) {
      return { ok: false, status: 401, message: 'authentication required' };
    }
    const allowed = username === undefined ? ANONYMOUS_ACTIONS : USER_ACTIONS;
    const scopes = requested
      .map((scope) => ({ ...scope, actions: scope.actions.filter((a) => allowed.has(a)) }))
      .filter((scope) => scope.actions.length > 0);
    const token = randomBytes(24).toString('base64url');
    const expiresInSeconds = this.#options.tokenExpiresInSeconds;
    this.#tokens.set(token, { username, scopes, expiresAt: now + expiresInSeconds * 1000 });
    if (offline && username !== undefined) {
      const refreshToken = randomBytes(24).toString('base64url');
      this.#refreshTokens.set(refreshToken, username);
      return { ok: true, token, scopes, expiresInSeconds, refreshToken };
    }
    return { ok: true, token, scopes, expiresInSeconds };
  }

  /** The user a refresh token (configured identity token or one issued offline) belongs to. */
  refreshTokenUser(refreshToken: string): string | undefined {
    return this.#refreshTokens.get(refreshToken);
  }

  revokeTokens(): void {
    this.#tokens.clear();
  }
}
