/**
 * What dockerode's errors mean. dockerode (docker-modem) reports an engine that answered as an
 * error with `statusCode` and `json`, and a transport failure as a Node error with `code`:
 * these helpers are the one place that reads those shapes.
 */

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
  // A connection the engine dropped mid-response. Callers check their own signal first: an
  // abort of ours is never the engine's fault.
  return error.message === 'socket hang up' || error.message === 'aborted';
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
