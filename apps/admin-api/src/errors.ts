/**
 * admin-api's error registry. Every error body it answers is `{ error, code }`; the codes it
 * raises on purpose and their statuses are this table, and callers branch on `code`, never on
 * the message. Messages never carry secrets.
 */
import type { ClassifyError } from '@molecule/service-kit';

/** Stable codes of admin-api's own HTTP errors, with their status. */
export const HTTP_ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNKNOWN_RUNTIME: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  TOO_MANY_REFRESHES: 429,
  ENGINE_ERROR: 500,
  INTERNAL: 500,
  ENGINE_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
} as const satisfies Record<string, number>;

export type AdminApiErrorCode = keyof typeof HTTP_ERROR_STATUS;

const kAdminApiError = Symbol.for('@molecule/admin-api.AdminApiError');

/** An error admin-api answers a request with on purpose. */
export class AdminApiError extends Error {
  override name = 'AdminApiError';
  readonly code: AdminApiErrorCode;
  /** Extra fields of the error body (e.g. `known_runtimes`, `partial_result`). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: AdminApiErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Object.defineProperty(this, kAdminApiError, { value: true });
    this.code = code;
    this.details = options.details ?? {};
  }

  get status(): number {
    return HTTP_ERROR_STATUS[this.code];
  }
}

/** `instanceof` that also holds across duplicate copies of this module (bundled vs source). */
export function isAdminApiError(value: unknown): value is AdminApiError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[kAdminApiError] === true
  );
}

/** The app's classifier for the kit's one error handler. */
export const classifyError: ClassifyError = (error) =>
  isAdminApiError(error)
    ? { status: error.status, body: { error: error.message, code: error.code, ...error.details } }
    : undefined;
