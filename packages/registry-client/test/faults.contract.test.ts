import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { isRegistryError, type RegistryError } from '../src/index.js';
import { rejectionOf, startHarness, USER } from './helpers.js';

async function codeOf(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await rejectionOf(promise);
  if (!isRegistryError(error)) throw error;
  return error;
}

const manifestRequests = (h: Awaited<ReturnType<typeof startHarness>>) =>
  h.registry.requests.filter((r) => r.kind === 'manifest');

describe('faults', () => {
  it('no Docker-Content-Digest on HEAD: GET and hash the body', async () => {
    const h = await startHarness({ auth: 'none' });
    const digest = h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest', method: 'HEAD' }, { omitDigestHeader: true });
    expect(await h.client.getManifestDigest(h.ref('acme/app'))).toEqual({
      digest,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    });
    expect(manifestRequests(h).map((r) => r.method)).toEqual(['HEAD', 'GET']);
  });

  it('a GET whose digest header does not match its body: DIGEST_MISMATCH', async () => {
    const h = await startHarness({ auth: 'none' });
    h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest', method: 'HEAD' }, { omitDigestHeader: true });
    h.registry.fault({ kind: 'manifest', method: 'GET' }, { wrongDigest: true });
    expect((await codeOf(h.client.getManifestDigest(h.ref('acme/app')))).code).toBe(
      'DIGEST_MISMATCH',
    );
  });

  it('a HEAD by digest answered with another digest: DIGEST_MISMATCH', async () => {
    const h = await startHarness({ auth: 'none' });
    const digest = h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest', method: 'HEAD' }, { wrongDigest: true });
    const error = await codeOf(h.client.getManifestDigest(`${h.registry.host}/acme/app@${digest}`));
    expect(error.code).toBe('DIGEST_MISMATCH');
  });

  it('an oversized manifest body: BAD_RESPONSE, also without Content-Length', async () => {
    const h = await startHarness({ auth: 'none' });
    h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest', method: 'HEAD' }, { omitDigestHeader: true });
    h.registry.fault(
      { kind: 'manifest', method: 'GET' },
      { oversizedBodyBytes: 5 * 1024 * 1024, times: 1 },
    );
    const first = await codeOf(h.client.getManifestDigest(h.ref('acme/app')));
    expect(first.code).toBe('BAD_RESPONSE');
    expect(first.message).toContain('larger than 4194304 bytes');
    h.registry.fault(
      { kind: 'manifest', method: 'GET' },
      { oversizedBodyBytes: 5 * 1024 * 1024, omitContentLength: true, times: 1 },
    );
    expect((await codeOf(h.client.getManifestDigest(h.ref('acme/app')))).code).toBe('BAD_RESPONSE');
  });

  it('an oversized token response: BAD_RESPONSE', async () => {
    const h = await startHarness({ auth: 'bearer', users: [USER] }, { credentials: USER });
    h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'token' }, { oversizedBodyBytes: 100 * 1024 });
    expect((await codeOf(h.client.getManifestDigest(h.ref('acme/app')))).code).toBe('BAD_RESPONSE');
  });

  it('429 with Retry-After, then success: retried', async () => {
    const h = await startHarness({ auth: 'none' });
    const digest = h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest' }, { status: 429, retryAfter: '0', times: 2 });
    expect((await h.client.getManifestDigest(h.ref('acme/app'))).digest).toBe(digest);
    expect(manifestRequests(h).map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it('429 with a Retry-After beyond the cap: RATE_LIMITED at once, with retryAfterMs', async () => {
    const h = await startHarness({ auth: 'none' });
    h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest' }, { status: 429, retryAfter: '3600' });
    const started = Date.now();
    const error = await codeOf(h.client.getManifestDigest(h.ref('acme/app')));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterMs).toBe(3_600_000);
    expect(error.status).toBe(429);
    expect(manifestRequests(h)).toHaveLength(1);
  });

  it('503 until retries run out: UNAVAILABLE after 1 + maxRetries attempts', async () => {
    const h = await startHarness({ auth: 'none' });
    h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest' }, { status: 503 });
    const error = await codeOf(h.client.getManifestDigest(h.ref('acme/app')));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toMatch(/: 503 Service Unavailable — /);
    expect(manifestRequests(h)).toHaveLength(4);
  });

  it('404 is not retried: NOT_FOUND naming the reference', async () => {
    const h = await startHarness({ auth: 'none' });
    const error = await codeOf(h.client.getManifestDigest(h.ref('acme/missing', 'v9')));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.path).toBe('/v2/acme/missing/manifests/v9');
    expect(error.message).toContain('acme/missing:v9');
    expect(manifestRequests(h)).toHaveLength(1);
  });

  it('a connection reset is retried', async () => {
    const h = await startHarness({ auth: 'none' });
    const digest = h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest' }, { reset: true, times: 1 });
    expect((await h.client.getManifestDigest(h.ref('acme/app'))).digest).toBe(digest);
  });

  it('a registry that stalls: TIMEOUT', async () => {
    const h = await startHarness(
      { auth: 'none' },
      { client: { headersTimeoutMs: 200, retry: { maxRetries: 0 } } },
    );
    h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest' }, { delayMs: 1000 });
    expect((await codeOf(h.client.getManifestDigest(h.ref('acme/app')))).code).toBe('TIMEOUT');
  });

  it('the overall call timeout: TIMEOUT; a caller abort passes its reason through', async () => {
    const h = await startHarness({ auth: 'none' }, { client: { requestTimeoutMs: 150 } });
    h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest' }, { delayMs: 1000 });
    expect((await codeOf(h.client.getManifestDigest(h.ref('acme/app')))).code).toBe('TIMEOUT');
    const controller = new AbortController();
    const pending = h.client.getManifestDigest(h.ref('acme/app'), { signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });

  it('an unreachable registry: NETWORK', async () => {
    const h = await startHarness({ auth: 'none' });
    const host = h.registry.host;
    await h.registry.close();
    expect((await codeOf(h.client.getManifestDigest(`${host}/acme/app:latest`))).code).toBe(
      'NETWORK',
    );
  });
});

describe('token reuse', () => {
  it('steady state: one HEAD per check over 20 rounds of 9 refs', async () => {
    const h = await startHarness({ auth: 'bearer', users: [USER] }, { credentials: USER });
    const refs = Array.from({ length: 9 }, (_, i) => {
      h.registry.pushRandomImage(`acme/rt${i}`);
      return h.ref(`acme/rt${i}`);
    });
    for (const ref of refs) await h.client.getManifestDigest(ref); // warm-up: ping + tokens
    h.registry.clearRequests();
    let connects = 0;
    const onConnect = () => connects++;
    diagnosticsChannel.subscribe('undici:client:connected', onConnect);
    try {
      for (let round = 0; round < 20; round++) {
        await Promise.all(refs.map((ref) => h.client.getManifestDigest(ref)));
      }
    } finally {
      diagnosticsChannel.unsubscribe('undici:client:connected', onConnect);
    }
    expect(h.registry.requests).toHaveLength(180);
    // Keep-alive: 180 HEADs over a pool bounded at concurrencyPerHost (16) connections.
    expect(connects).toBeLessThanOrEqual(16);
    expect(h.registry.requests.every((r) => r.method === 'HEAD' && r.status === 200)).toBe(true);
  });

  it('1,000 parallel checks of one repository fetch one token (single-flight)', async () => {
    const h = await startHarness({ auth: 'bearer', users: [USER] }, { credentials: USER });
    const digest = h.registry.pushRandomImage('acme/app');
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => h.client.getManifestDigest(h.ref('acme/app'))),
    );
    expect(results.every((r) => r.digest === digest)).toBe(true);
    expect(h.registry.requests.filter((r) => r.kind === 'token')).toHaveLength(1);
    expect(h.registry.requests.filter((r) => r.kind === 'ping')).toHaveLength(1);
  });

  it('a 401 with a cached token refetches once', async () => {
    const h = await startHarness({ auth: 'bearer', users: [USER] }, { credentials: USER });
    const digest = h.registry.pushRandomImage('acme/app');
    await h.client.getManifestDigest(h.ref('acme/app'));
    h.registry.revokeTokens();
    h.registry.clearRequests();
    expect((await h.client.getManifestDigest(h.ref('acme/app'))).digest).toBe(digest);
    expect(h.registry.requests.map((r) => `${r.kind} ${r.status}`)).toEqual([
      'manifest 401',
      'token 200',
      'manifest 200',
    ]);
  });

  it('renews the token when it nears expiry (clock injected)', async () => {
    let now = Date.now();
    const h = await startHarness(
      { auth: 'bearer', users: [USER], tokenExpiresInSeconds: 300 },
      { credentials: USER, client: { now: () => now } },
    );
    h.registry.pushRandomImage('acme/app');
    await h.client.getManifestDigest(h.ref('acme/app'));
    now += 200_000;
    await h.client.getManifestDigest(h.ref('acme/app'));
    expect(h.registry.requests.filter((r) => r.kind === 'token')).toHaveLength(1);
    now += 75_000; // past 300 s minus the 30 s margin
    await h.client.getManifestDigest(h.ref('acme/app'));
    expect(h.registry.requests.filter((r) => r.kind === 'token')).toHaveLength(2);
  });

  it('reports every request to onRequest with its kind and status', async () => {
    const h = await startHarness({ auth: 'bearer', users: [USER] }, { credentials: USER });
    h.registry.pushRandomImage('acme/app');
    await h.client.getManifestDigest(h.ref('acme/app'));
    expect(h.events.map((e) => [e.method, e.kind, e.status, e.path])).toEqual([
      ['GET', 'ping', 401, '/v2/'],
      ['GET', 'token', 200, new URL(h.registry.realmUrl!).pathname],
      ['HEAD', 'manifest', 200, '/v2/acme/app/manifests/latest'],
    ]);
    expect(h.events.every((e) => e.host === h.registry.host && e.durationMs >= 0)).toBe(true);
  });
});
