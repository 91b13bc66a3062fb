/**
 * Faults of the state stores, with stable codes (callers branch on `code`, never on the
 * message). Messages name the operation and the database's own reason, never a URL or a
 * password. `isStoreError` works across duplicate copies of this module (a brand, not
 * `instanceof`).
 */

export type StoreErrorCode =
  /** The database cannot be reached, or did not answer within the query timeout. */
  | 'STORE_UNAVAILABLE'
  /** The database answered with an error that is not an outage (a bug, a permission). */
  | 'STORE_QUERY_FAILED'
  /** A stored row does not match the rollout schema (edited by hand, a newer writer). */
  | 'STORE_BAD_DATA'
  /** A state file to import cannot be read or is not a state file of a known version. */
  | 'STATE_FILE_INVALID';

const kStoreError = Symbol.for('@molecule/imagewatch.StoreError');

export class StoreError extends Error {
  override name = 'StoreError';
  readonly code: StoreErrorCode;
  /** What was being done: `commit`, `listRollouts`, `migrate`, `import`, … */
  readonly operation: string;

  constructor(
    code: StoreErrorCode,
    operation: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`[${operation}] ${reason}`, options);
    Object.defineProperty(this, kStoreError, { value: true });
    this.code = code;
    this.operation = operation;
  }
}

/** The database is down or unreachable: nothing was written; retry later. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
  declare readonly code: 'STORE_UNAVAILABLE';

  constructor(operation: string, reason: string, options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', operation, `database unavailable: ${reason}`, options);
  }
}

export function isStoreError(value: unknown): value is StoreError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[kStoreError] === true
  );
}

export function isStoreUnavailableError(value: unknown): value is StoreUnavailableError {
  return isStoreError(value) && value.code === 'STORE_UNAVAILABLE';
}

/**
 * SQLSTATE classes and codes that mean "the server is not there right now" rather than "the
 * statement is wrong": 08 connection exception, 57P01–57P03 shutdown / cannot connect now,
 * 53300 too many connections, 57014 canceled (our statement_timeout).
 * https://www.postgresql.org/docs/15/errcodes-appendix.html
 */
const OUTAGE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
/** Socket-level codes Node reports for a server that is gone or unreachable. */
const OUTAGE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/**
 * pg reports its own client-side failures without a code; these messages are its stable
 * wording (pg 8.x lib/client.js, pg-pool): a dead socket, a read timeout, a connect timeout.
 */
const OUTAGE_MESSAGES = [
  /connection terminated/i,
  /connection error/i,
  /query read timeout/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /not queryable/i,
  /client was closed/i,
  /cannot use a pool after calling end/i,
];

/** True when `error` (from pg or the socket) means the database cannot be reached now. */
export function isOutage(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || OUTAGE_SQLSTATES.has(code) || OUTAGE_ERRNOS.has(code)) {
      return true;
    }
  }
  if (error instanceof AggregateError) return error.errors.some(isOutage);
  const message = error instanceof Error ? error.message : '';
  return OUTAGE_MESSAGES.some((pattern) => pattern.test(message));
}

/** A short reason for logs and health: the errno or SQLSTATE and pg's message. */
export function describeDatabaseError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const message =
    error.message !== ''
      ? error.message
      : error instanceof AggregateError
        ? error.errors.map((inner: unknown) => describeDatabaseError(inner)).join('; ')
        : error.name;
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}

/** Wraps a failure of `operation` in the store's typed error (outage or not). */
export function toStoreError(operation: string, error: unknown): StoreError {
  if (isStoreError(error)) return error;
  const reason = describeDatabaseError(error);
  return isOutage(error)
    ? new StoreUnavailableError(operation, reason, { cause: error })
    : new StoreError('STORE_QUERY_FAILED', operation, reason, { cause: error });
}
