/**
 * Authentication of registry notifications. Every comparison with a secret is constant-time
 * (`crypto.timingSafeEqual`), so response timing says nothing about how much of a guess was
 * right.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time string equality. Both sides are hashed first: equal-length buffers for
 * `timingSafeEqual`, and the secret's length does not leak either.
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>` (scheme case-insensitive, as RFC 7235 wants). */
export function isBearerAuthorized(header: string | undefined, token: string): boolean {
  const match = /^bearer +(\S+) *$/i.exec(header ?? '');
  // Compare even without a match, so a malformed header costs the same as a wrong token.
  const equal = safeEqual(match?.[1] ?? '', token);
  return match !== null && equal;
}

/**
 * GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
 * https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 */
export function isGitHubSignatureValid(
  body: Buffer,
  header: string | undefined,
  secret: string,
): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return safeEqual((header ?? '').trim().toLowerCase(), expected);
}

/** What GitHub would send for `body` (tests and tooling sign payloads with it). */
export function signGitHubPayload(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
