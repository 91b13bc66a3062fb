import { afterEach, describe, expect, it } from 'vitest';
import { sha256Digest } from './digest.js';
import { startFakeRegistry } from './server.js';
import type { FakeRegistry, FakeRegistryOptions } from './types.js';

const REPO = 'acme/app';
let registry: FakeRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function start(options: FakeRegistryOptions = {}) {
  registry = await startFakeRegistry(options);
  const digest = registry.pushRandomImage(REPO);
  return { r: registry, digest, url: `${registry.url}/v2/${REPO}/manifests/latest` };
}

describe('fault injection', () => {
  it('answers an injected status with Retry-After, for `times` requests only', async () => {
    const { r, url } = await start();
    r.fault({ kind: 'manifest', method: 'head' }, { status: 429, retryAfter: '2', times: 2 });
    const first = await fetch(url, { method: 'HEAD' });
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(429);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(url)).status).toBe(200);
    expect(r.requests.map((q) => q.status)).toEqual([429, 429, 200, 200]);
  });

  it('applies a fault without `times` forever, until clearFaults()', async () => {
    const { r, url } = await start();
    r.fault({ path: /\/manifests\// }, { status: 503 });
    for (let i = 0; i < 3; i++) {
      const response = await fetch(url);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ errors: [{ code: 'UNAVAILABLE' }] });
    }
    expect((await fetch(`${r.url}/v2/`)).status).toBe(200);
    r.clearFaults();
    expect((await fetch(url)).status).toBe(200);
  });

  it('matches an exact path', async () => {
    const { r, url } = await start();
    r.pushRandomImage('acme/other');
    r.fault({ path: `/v2/${REPO}/manifests/latest` }, { status: 500 });
    expect((await fetch(url)).status).toBe(500);
    expect((await fetch(`${r.url}/v2/acme/other/manifests/latest`)).status).toBe(200);
  });

  it('delays a response', async () => {
    const { r, url } = await start();
    r.fault({ kind: 'manifest' }, { delayMs: 150, times: 1 });
    let started = Date.now();
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    started = Date.now();
    await fetch(url, { method: 'HEAD' });
    expect(Date.now() - started).toBeLessThan(140);
  });

  it('adds global latency to every request', async () => {
    const { r, url } = await start({ latencyMs: 100 });
    let started = Date.now();
    await fetch(url, { method: 'HEAD' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    r.setLatency(0);
    started = Date.now();
    await fetch(url, { method: 'HEAD' });
    expect(Date.now() - started).toBeLessThan(90);
    expect(() => r.setLatency(-1)).toThrow(TypeError);
  });

  it('omits the digest header, leaving the body intact', async () => {
    const { r, url, digest } = await start();
    r.fault({ kind: 'manifest' }, { omitDigestHeader: true });
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.has('docker-content-digest')).toBe(false);
    const get = await fetch(url);
    expect(get.headers.has('docker-content-digest')).toBe(false);
    expect(sha256Digest(Buffer.from(await get.arrayBuffer()))).toBe(digest);
  });

  it('sends a digest header that does not match the body', async () => {
    const { r, url, digest } = await start();
    r.fault({ kind: 'manifest', method: 'GET' }, { wrongDigest: true, times: 1 });
    const get = await fetch(url);
    const header = get.headers.get('docker-content-digest');
    expect(header).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(header).not.toBe(digest);
    expect(sha256Digest(Buffer.from(await get.arrayBuffer()))).toBe(digest);
  });

  it('uses up a response fault only on a successful response, not on the 401 before it', async () => {
    const { r, url } = await start({ auth: 'bearer' });
    r.fault({ kind: 'manifest' }, { omitDigestHeader: true, times: 1 });
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(401);
    const { token } = (await (
      await fetch(`${r.realmUrl}?service=fake-registry&scope=repository:${REPO}:pull`)
    ).json()) as {
      token: string;
    };
    const authorized = { method: 'HEAD', headers: { authorization: `Bearer ${token}` } };
    expect((await fetch(url, authorized)).headers.has('docker-content-digest')).toBe(false);
    expect((await fetch(url, authorized)).headers.has('docker-content-digest')).toBe(true);
  });

  it('pads a body to an oversized length', async () => {
    const { r, url } = await start();
    r.fault({ kind: 'manifest' }, { oversizedBodyBytes: 5 * 1024 * 1024 });
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(5 * 1024 * 1024));
    const get = await fetch(url);
    expect(get.headers.get('content-length')).toBe(String(5 * 1024 * 1024));
    expect((await get.arrayBuffer()).byteLength).toBe(5 * 1024 * 1024);
  });

  it('can send the body without Content-Length', async () => {
    const { r, url, digest } = await start();
    r.fault({ kind: 'manifest' }, { omitContentLength: true });
    const get = await fetch(url);
    expect(get.headers.has('content-length')).toBe(false);
    expect(sha256Digest(Buffer.from(await get.arrayBuffer()))).toBe(digest);
  });

  it('resets the connection', async () => {
    const { r, url } = await start();
    r.fault({ kind: 'manifest' }, { reset: true, times: 1 });
    await expect(fetch(url)).rejects.toThrow();
    expect((await fetch(url)).status).toBe(200);
    expect(r.requests.map((q) => q.status)).toEqual([0, 200]);
  });

  it('injects faults on the token endpoint, before authentication', async () => {
    const { r } = await start({ auth: 'bearer-external-realm' });
    r.fault({ kind: 'token' }, { status: 502, times: 1 });
    r.fault({ kind: 'token', method: 'POST' }, { status: 404 });
    const url = `${r.realmUrl}?service=fake-registry`;
    expect((await fetch(url)).status).toBe(502);
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(r.realmUrl!, { method: 'POST', body: 'grant_type=password' })).status).toBe(
      404,
    );
  });

  it('includes a challenge with an injected 401', async () => {
    const { r, url } = await start({ auth: 'bearer' });
    r.fault({ kind: 'manifest' }, { status: 401, times: 1 });
    const response = await fetch(url);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain(`scope="repository:${REPO}:pull"`);
  });

  it('rejects invalid fault definitions', async () => {
    const { r } = await start();
    expect(() => r.fault({}, { times: 0 })).toThrow(TypeError);
    expect(() => r.fault({}, { status: 1000 })).toThrow(TypeError);
  });
});
