import { createHash } from 'node:crypto';

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** `sha256:<hex>` of the content, as registries name blobs and manifests. */
export function sha256Digest(content: Buffer | string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

export function isDigest(reference: string): boolean {
  return DIGEST.test(reference);
}

/**
 * The short id the request log shows for a token instead of the token: the first 12 hex
 * digits of its sha256. Tests compute it to match a request to a token they hold.
 */
export function tokenId(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}
