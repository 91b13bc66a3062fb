/**
 * Every error the service raises on purpose. Callers branch on `code`, never on `message`;
 * `statusCode` is what the HTTP error handler answers with. Messages never carry secrets.
 */
export type AdminApiErrorCode =
  | 'CONFIG'
  | 'UNAUTHORIZED'
  | 'UNKNOWN_RUNTIME'
  | 'BAD_REQUEST'
  | 'TOO_MANY_REFRESHES'
  | 'ENGINE_UNAVAILABLE'
  | 'ENGINE_ERROR'
  | 'PULL_FAILED'
  | 'PULL_TIMEOUT'
  | 'IMAGE_MISSING'
  | 'SHUTTING_DOWN';

const BRAND = Symbol.for('@molecule/admin-api/error');

export class AdminApiError extends Error {
  override name = 'AdminApiError';
  readonly [BRAND] = true;
  readonly code: AdminApiErrorCode;
  readonly statusCode: number;

  constructor(
    code: AdminApiErrorCode,
    message: string,
    options: { statusCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.statusCode = options.statusCode ?? 500;
  }
}

/** A bad or missing environment variable; `main` exits with code 2 on it. */
export class ConfigError extends AdminApiError {
  override name = 'ConfigError';
  readonly variable: string;

  constructor(variable: string, message: string, options: { cause?: unknown } = {}) {
    super('CONFIG', `${variable}: ${message}`, { statusCode: 500, ...options });
    this.variable = variable;
  }
}

/** `instanceof` that also holds across duplicate copies of this module (bundled vs source). */
export function isAdminApiError(value: unknown): value is AdminApiError {
  return (
    value instanceof AdminApiError ||
    (value instanceof Error && (value as { [BRAND]?: unknown })[BRAND] === true)
  );
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

/**
 * True when an error from dockerode means the engine could not be talked to at all (socket
 * missing, connection refused or cut), as opposed to an engine that answered with an error.
 */
export function isEngineUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (error.message === 'socket hang up' || error.message === 'aborted') return true;
  return false;
}

/** The HTTP status an engine answered with, when it answered. */
export function engineStatusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * One line describing an engine failure, without request options or headers (dockerode's
 * messages look like `(HTTP code 500) server error - unauthorized: authentication required`).
 */
export function describeEngineError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const json = (error as { json?: unknown }).json;
  const status = engineStatusOf(error);
  if (
    json &&
    typeof json === 'object' &&
    typeof (json as { message?: unknown }).message === 'string'
  ) {
    return `engine answered ${status ?? '?'}: ${(json as { message: string }).message}`;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return `engine unreachable (${code})`;
  return error.message.trim();
}
