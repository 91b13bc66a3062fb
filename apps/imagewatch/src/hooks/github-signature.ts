/**
 * GitHub webhook authentication: an HMAC of the raw body, compared in constant time (the
 * bearer check of the other formats is the service kit's).
 */
import { createHmac } from 'node:crypto';
import { safeEqual } from '@molecule/service-kit';

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
