/**
 * One error registry per app: a table `code → HTTP status`, and from it the app's error class
 * (a stable `code` typed as the table's keys, a `status`, extra body fields), its guard
 * (branded, so it holds across duplicate copies of a module) and the classifier for the one
 * error handler (`registerErrorHandlers`).
 *
 * @example
 * const errors = defineHttpErrors({ name: 'AdminApiError', statuses: { UNKNOWN_RUNTIME: 400 } });
 * throw new errors.HttpError('UNKNOWN_RUNTIME', 'unknown runtime: x');
 */
import type { ClassifyError } from './error-handlers.js';

export interface HttpErrorOptions {
  readonly cause?: unknown;
  /** Extra fields of the error body, next to `error` and `code`. */
  readonly details?: Record<string, unknown>;
}

export interface HttpError<Code extends string> extends Error {
  readonly code: Code;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>>;
}

export function defineHttpErrors<const Table extends Record<string, number>>(options: {
  /** The class name (`error.name`), also the brand's key. */
  readonly name: string;
  readonly statuses: Table;
}) {
  type Code = keyof Table & string;
  const brand = Symbol.for(`@molecule/service-kit.HttpError.${options.name}`);

  class AppHttpError extends Error implements HttpError<Code> {
    override name = options.name;
    readonly code: Code;
    readonly details: Readonly<Record<string, unknown>>;

    constructor(code: Code, message: string, errorOptions: HttpErrorOptions = {}) {
      super(message, errorOptions.cause === undefined ? undefined : { cause: errorOptions.cause });
      Object.defineProperty(this, brand, { value: true });
      this.code = code;
      this.details = errorOptions.details ?? {};
    }

    get status(): number {
      return options.statuses[this.code] ?? 500;
    }
  }

  const isHttpError = (value: unknown): value is AppHttpError =>
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[brand] === true;

  const classifyError: ClassifyError = (error) =>
    isHttpError(error)
      ? { status: error.status, body: { ...error.details, error: error.message, code: error.code } }
      : undefined;

  return { HttpError: AppHttpError, isHttpError, classifyError };
}
