/**
 * Bearer authentication. Every comparison with a secret is constant-time: both sides are
 * hashed first, so `timingSafeEqual` gets equal lengths and the secret's length does not
 * leak either.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time string equality. */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235), or
 * `undefined` when the header is missing or has another shape.
 */
export function parseBearerToken(header: string | undefined): string | undefined {
  const match = /^bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}

/** True when `header` carries exactly `token`. */
export function isBearerAuthorized(header: string | undefined, token: string): boolean {
  const presented = parseBearerToken(header);
  // Compare even without a token, so a malformed header costs the same as a wrong one.
  const equal = safeEqual(presented ?? '', token);
  return presented !== undefined && equal;
}
