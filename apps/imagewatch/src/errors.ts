/**
 * imagewatch's error registry. Every error body it answers is `{ error, code }`; the codes it
 * raises on purpose and their statuses are this table, and callers branch on `code`, never on
 * the message. Messages never contain secrets (tokens, passwords, Authorization headers).
 */
import { defineHttpErrors } from '@molecule/service-kit';

/** Stable codes of imagewatch's own HTTP errors, with their status. */
export const HTTP_ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  /** The rollout's state does not allow the action (resume a running one, abort a done one). */
  ROLLOUT_STATE: 409,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ImagewatchErrorCode = keyof typeof HTTP_ERROR_STATUS;

const registry = defineHttpErrors({ name: 'ImagewatchError', statuses: HTTP_ERROR_STATUS });

/** An error imagewatch answers a request with on purpose (`code`, `status`, body `details`). */
export const ImagewatchError = registry.HttpError;
export type ImagewatchError = InstanceType<typeof ImagewatchError>;
export const isImagewatchError = registry.isHttpError;
/** The app's classifier for the kit's one error handler. */
export const classifyError = registry.classifyError;

/** Why a call to admin-api failed. */
export type AdminCallErrorCode =
  | 'ADMIN_UNAUTHORIZED'
  | 'ADMIN_BAD_REQUEST'
  /** admin-api accepted a newer leader's epoch: this process must stop acting. */
  | 'ADMIN_STALE_EPOCH'
  | 'ADMIN_SERVER_ERROR'
  | 'ADMIN_UNAVAILABLE'
  | 'ADMIN_TIMEOUT'
  | 'ADMIN_NETWORK'
  | 'ADMIN_BAD_RESPONSE'
  | 'ADMIN_ABORTED';

const kAdminCallError = Symbol.for('@molecule/imagewatch.AdminCallError');

/**
 * A call to admin-api failed. One message format: `[POST] "http://host/path": 401 reason`.
 * `status` is the HTTP status when there was a response; `body` its error body's `code`.
 */
export class AdminCallError extends Error {
  override name = 'AdminCallError';
  readonly code: AdminCallErrorCode;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  /** The `code` of admin-api's error body, when it sent one. */
  readonly remoteCode: string | undefined;

  constructor(
    code: AdminCallErrorCode,
    details: {
      method: string;
      url: string;
      path: string;
      status?: number;
      remoteCode?: string;
      reason: string;
    },
    options?: { cause?: unknown },
  ) {
    const status = details.status === undefined ? '' : `${details.status} `;
    super(`[${details.method}] "${details.url}": ${status}${details.reason}`, options);
    Object.defineProperty(this, kAdminCallError, { value: true });
    this.code = code;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.remoteCode = details.remoteCode;
  }
}

export function isAdminCallError(value: unknown): value is AdminCallError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[kAdminCallError] === true
  );
}
