/**
 * When and how long to wait before another attempt. Retried: 429, 502, 503, 504 and
 * connection resets. Never retried: other 4xx (asking again changes nothing), 500/501.
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export interface RetryOptions {
  /** Attempts after the first (default 3). */
  readonly maxRetries?: number;
  /** First backoff step in ms (default 200); doubles each attempt. */
  readonly baseDelayMs?: number;
  /** Longest backoff step in ms (default 5 000). */
  readonly maxDelayMs?: number;
  /** Longest `Retry-After` honoured in ms (default 30 000); a longer one ends retrying. */
  readonly retryAfterCapMs?: number;
}

export interface ResolvedRetryOptions {
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly retryAfterCapMs: number;
}

export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  return {
    maxRetries: options.maxRetries ?? 3,
    baseDelayMs: options.baseDelayMs ?? 200,
    maxDelayMs: options.maxDelayMs ?? 5_000,
    retryAfterCapMs: options.retryAfterCapMs ?? 30_000,
  };
}

/** Exponential backoff with jitter: a random point in the upper half of the step. */
export function backoffDelayMs(
  attempt: number,
  options: ResolvedRetryOptions,
  random: () => number = Math.random,
): number {
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date
 * (RFC 9110 §10.2.3). `undefined` when absent or unparsable.
 */
export function parseRetryAfter(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
