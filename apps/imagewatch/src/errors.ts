/**
 * Errors of imagewatch. Every error has a stable `code`; callers branch on it, never on
 * the message. Messages never contain secrets (tokens, passwords, Authorization headers).
 */
export type ImagewatchErrorCode =
  | 'INVALID_CONFIG'
  | 'ADMIN_UNAUTHORIZED'
  | 'ADMIN_BAD_REQUEST'
  | 'ADMIN_SERVER_ERROR'
  | 'ADMIN_UNAVAILABLE'
  | 'ADMIN_TIMEOUT'
  | 'ADMIN_NETWORK'
  | 'ADMIN_BAD_RESPONSE'
  | 'ADMIN_ABORTED';

export class ImagewatchError extends Error {
  override name = 'ImagewatchError';
  readonly code: ImagewatchErrorCode;

  constructor(code: ImagewatchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A configuration variable has a value the service cannot run with (exit code 2). */
export class ConfigError extends ImagewatchError {
  override name = 'ConfigError';
  /** The environment variable at fault, e.g. `IMAGE_WATCH_INTERVAL`. */
  readonly variable: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    super('INVALID_CONFIG', `${variable}: ${message}`, options);
    this.variable = variable;
  }
}

/** A call to admin-api failed. `status` is the HTTP status when there was a response. */
export class AdminApiError extends ImagewatchError {
  override name = 'AdminApiError';
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;

  constructor(
    code: ImagewatchErrorCode,
    details: { method: string; url: string; path: string; status?: number; reason: string },
    options?: { cause?: unknown },
  ) {
    // One message format: `[POST] "http://host/path": 401 Unauthorized`.
    const status = details.status === undefined ? '' : `${details.status} `;
    super(code, `[${details.method}] "${details.url}": ${status}${details.reason}`, options);
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
  }
}
