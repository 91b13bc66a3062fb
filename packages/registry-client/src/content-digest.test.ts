import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentDigest, verifyContentDigest } from './content-digest.js';
import { isRegistryError } from './errors.js';
import type { TransportResponse } from './transport.js';

const BODY = Buffer.from('{"schemaVersion":2}');
const hex = (algorithm: string) => createHash(algorithm).update(BODY).digest('hex');
const SHA256 = `sha256:${hex('sha256')}`;
const SHA512 = `sha512:${hex('sha512')}`;

const response: TransportResponse = {
  status: 200,
  headers: {},
  body: BODY,
  url: new URL('http://registry.test/v2/acme/app/manifests/latest'),
  retryAfterMs: undefined,
};

describe('contentDigest', () => {
  it('hashes in the algorithm of the digest it is compared with, sha256 by default', () => {
    expect(contentDigest(BODY)).toBe(SHA256);
    expect(contentDigest(BODY, SHA256)).toBe(SHA256);
    expect(contentDigest(BODY, SHA512)).toBe(SHA512);
    expect(contentDigest(BODY, `x${SHA512}`)).toBe(SHA256);
  });
});

describe('verifyContentDigest', () => {
  it('ignores absent and empty claims', () => {
    expect(verifyContentDigest(response, 'GET', 'manifest', [undefined, ''])).toBe(SHA256);
  });

  it('answers in the algorithm of the first claim', () => {
    expect(verifyContentDigest(response, 'GET', 'manifest', ['', SHA512, SHA256])).toBe(SHA512);
  });

  it('is DIGEST_MISMATCH for a claim the body does not meet, naming both digests', () => {
    const claim = `sha256:${'0'.repeat(64)}`;
    let caught: unknown;
    try {
      verifyContentDigest(response, 'GET', 'manifest', [SHA256, claim]);
    } catch (error) {
      caught = error;
    }
    expect(isRegistryError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'DIGEST_MISMATCH', method: 'GET', status: 200 });
    expect((caught as Error).message).toBe(
      `[GET] "http://registry.test/v2/acme/app/manifests/latest": 200 OK — the manifest body hashes to ${SHA256}, not ${claim}; the registry or a proxy altered it`,
    );
  });
});
