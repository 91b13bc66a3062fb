import { tokenId } from './digest.js';
import type { PresentedCredentials } from './types.js';

export type Authorization =
  | { readonly scheme: 'none' }
  | { readonly scheme: 'basic'; readonly username: string; readonly password: string }
  | { readonly scheme: 'bearer'; readonly token: string }
  | { readonly scheme: 'other' };

/** Parses an `Authorization` header (RFC 7617 Basic, RFC 6750 Bearer). */
export function parseAuthorization(header: string | undefined): Authorization {
  if (!header) return { scheme: 'none' };
  const match = /^(\S+)\s+(.*)$/.exec(header.trim());
  if (!match) return { scheme: 'other' };
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!.trim();
  if (scheme === 'bearer') return { scheme: 'bearer', token: value };
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { scheme: 'other' };
    return {
      scheme: 'basic',
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
    };
  }
  return { scheme: 'other' };
}

/** What the request log may say about credentials: a username or a token id, no secret. */
export function describeAuthorization(auth: Authorization): PresentedCredentials {
  switch (auth.scheme) {
    case 'basic':
      return { scheme: 'basic', username: auth.username };
    case 'bearer':
      return { scheme: 'bearer', tokenId: tokenId(auth.token) };
    default:
      return { scheme: 'none' };
  }
}
