/**
 * admin-api's error registry. Every error body it answers is `{ error, code }`; the codes it
 * raises on purpose and their statuses are this table, and callers branch on `code`, never on
 * the message. Messages never carry secrets.
 */
import { defineHttpErrors } from '@molecule/service-kit';

/** Stable codes of admin-api's own HTTP errors, with their status. */
export const HTTP_ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNKNOWN_RUNTIME: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  STALE_EPOCH: 409,
  TOO_MANY_REFRESHES: 429,
  ENGINE_ERROR: 500,
  INTERNAL: 500,
  ENGINE_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
} as const satisfies Record<string, number>;

export type AdminApiErrorCode = keyof typeof HTTP_ERROR_STATUS;

const registry = defineHttpErrors({ name: 'AdminApiError', statuses: HTTP_ERROR_STATUS });

/** An error admin-api answers a request with on purpose (`code`, `status`, body `details`). */
export const AdminApiError = registry.HttpError;
export type AdminApiError = InstanceType<typeof AdminApiError>;
/** `instanceof` that also holds across duplicate copies of this module (bundled vs source). */
export const isAdminApiError = registry.isHttpError;
/** The app's classifier for the kit's one error handler. */
export const classifyError = registry.classifyError;
