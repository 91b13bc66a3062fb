/**
 * Every failure of this package is a `RegistryError` with a stable `code`. Callers branch on
 * `code`, never on `message`. Messages always read the same way:
 *
 *   [HEAD] "https://registry.example.com/v2/acme/app/manifests/latest": 401 Unauthorized — <what to check>
 *
 * No message or property ever carries a secret: URLs are rendered without their query, and
 * credentials are never interpolated.
 */
export type RegistryErrorCode =
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'NO_DIGEST'
  | 'DIGEST_MISMATCH'
  | 'TIMEOUT'
  | 'NETWORK'
  | 'BAD_RESPONSE'
  | 'CONFIG';

export const REGISTRY_ERROR_CODES: readonly RegistryErrorCode[] = [
  'UNAUTHORIZED',
  'NOT_FOUND',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'NO_DIGEST',
  'DIGEST_MISMATCH',
  'TIMEOUT',
  'NETWORK',
  'BAD_RESPONSE',
  'CONFIG',
];

/** Brand so `isRegistryError` works across duplicate copies of this package. */
const kRegistryError = Symbol.for('@molecule/registry-client.RegistryError');

export interface RegistryErrorOptions {
  readonly code: RegistryErrorCode;
  /** What to check or try; the tail of the message. */
  readonly hint: string;
  /** HTTP method, or an operation name such as `EXEC` for non-HTTP failures. */
  readonly method?: string;
  /** The target: a URL (its query is dropped) or a command. */
  readonly target?: string;
  readonly host?: string;
  readonly path?: string;
  readonly status?: number;
  readonly statusText?: string | undefined;
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly code: RegistryErrorCode;
  readonly host?: string;
  readonly path?: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly method?: string;

  constructor(options: RegistryErrorOptions) {
    super(formatMessage(options), options.cause === undefined ? {} : { cause: options.cause });
    Object.defineProperty(this, kRegistryError, { value: true });
    this.code = options.code;
    if (options.host !== undefined) this.host = options.host;
    if (options.path !== undefined) this.path = options.path;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.method !== undefined) this.method = options.method;
  }
}

export function isRegistryError(value: unknown): value is RegistryError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[kRegistryError] === true
  );
}

function formatMessage(options: RegistryErrorOptions): string {
  const head = `[${options.method ?? options.code}]`;
  const target = options.target === undefined ? '' : ` "${redactTarget(options.target)}"`;
  const status =
    options.status === undefined
      ? ''
      : ` ${options.status}${options.statusText ? ` ${options.statusText}` : ''}`;
  const colon = target || status ? ':' : '';
  return `${head}${target}${colon}${status} — ${options.hint}`;
}

/** URLs in messages never keep their query or userinfo (a refresh token could hide there). */
export function redactTarget(target: string): string {
  try {
    const url = new URL(target);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return target;
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return target;
  }
}

/** Reason phrases for the statuses registries use, so messages read `401 Unauthorized`. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
