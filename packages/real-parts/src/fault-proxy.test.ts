import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRealPartsError } from './errors.js';
import { type FaultProxy, type FaultProxyOptions, startFaultProxy } from './fault-proxy.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodySha256: string;
  bodyLength: number;
}

/** A tiny upstream: records each request, answers like a registry would, streams on /stream. */
function createUpstream() {
  const seen: Seen[] = [];
  let releaseStream: (() => void) | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        bodySha256: createHash('sha256').update(body).digest('hex'),
        bodyLength: body.length,
      });
      if (req.url === '/stream') {
        // first chunk now, the rest only when the test has seen the first one
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write('first;');
        releaseStream = () => res.end('rest');
        return;
      }
      if (req.url === '/v2/') {
        res.writeHead(401, {
          'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="test-registry"',
          'docker-distribution-api-version': 'registry/2.0',
          'content-type': 'application/json',
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const answer = JSON.stringify({ ok: true });
      res.writeHead(201, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(answer),
        'docker-content-digest': 'sha256:abc',
        location: `http://${req.headers.host}/v2/a/blobs/uploads/1`,
        'x-upstream': 'yes',
      });
      res.end(req.method === 'HEAD' ? undefined : answer);
    });
  });
  return {
    seen,
    server,
    release: () => releaseStream?.(),
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  };
}

/** One request with node:http, to see resets and hangs as the socket reports them. */
function rawRequest(
  url: string,
  options: { method?: string; timeoutMs?: number } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method: options.method ?? 'GET', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? 'x' }));
    });
    if (options.timeoutMs)
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message }),
    );
    req.end();
  });
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('startFaultProxy', () => {
  const upstream = createUpstream();
  const proxies: FaultProxy[] = [];
  const start = async (options: Omit<FaultProxyOptions, 'upstream'> = {}) => {
    const proxy = await startFaultProxy({ upstream: upstream.url(), ...options });
    proxies.push(proxy);
    return proxy;
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    upstream.seen.length = 0;
  });
  afterAll(async () => {
    upstream.server.closeAllConnections();
    await new Promise((resolve) => upstream.server.close(resolve));
  });

  it('pass forwards method, path, query, Authorization and body; answers come back as they are', async () => {
    const proxy = await start();
    expect(proxy.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(proxy.url).toBe(`http://${proxy.host}`);
    const body = randomBytes(1024 * 1024);
    const response = await fetch(`${proxy.url}/v2/a/blobs/uploads/?digest=sha256%3Aabc&x=1`, {
      method: 'PUT',
      headers: { authorization: 'Bearer t0ken', 'content-type': 'application/octet-stream' },
      body,
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('docker-content-digest')).toBe('sha256:abc');
    expect(response.headers.get('x-upstream')).toBe('yes');
    // the upstream built its Location from our Host: follow-ups come back through the proxy
    expect(response.headers.get('location')).toBe(`${proxy.url}/v2/a/blobs/uploads/1`);
    expect(await response.json()).toEqual({ ok: true });

    const [seen] = upstream.seen;
    expect(seen?.method).toBe('PUT');
    expect(seen?.url).toBe('/v2/a/blobs/uploads/?digest=sha256%3Aabc&x=1');
    expect(seen?.headers.authorization).toBe('Bearer t0ken');
    expect(seen?.headers.host).toBe(proxy.host);
    expect(seen?.bodyLength).toBe(body.length);
    expect(seen?.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(proxy.requests.pass).toBe(1);
  });

  it('pass leaves a WWW-Authenticate realm on another port as it is', async () => {
    const proxy = await start();
    const response = await fetch(`${proxy.url}/v2/`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="http://127.0.0.1:1/token",service="test-registry"',
    );
  });

  it('pass streams a response body before the upstream has finished it', async () => {
    const proxy = await start();
    const response = await fetch(`${proxy.url}/stream`);
    const reader = response.body?.getReader();
    const first = await reader?.read();
    expect(Buffer.from(first?.value ?? []).toString()).toBe('first;');
    upstream.release();
    let rest = '';
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      rest += Buffer.from(chunk.value).toString();
    }
    expect(rest).toBe('rest');
  });

  it('pass answers HEAD with the upstream headers and no body', async () => {
    const proxy = await start();
    const response = await rawRequest(`${proxy.url}/v2/a/manifests/latest`, { method: 'HEAD' });
    expect(response).toMatchObject({ status: 201, body: '' });
    expect('headers' in response && response.headers['docker-content-digest']).toBe('sha256:abc');
  });

  it('answers 502 when the upstream is down', async () => {
    const proxy = await startFaultProxy({ upstream: 'http://127.0.0.1:1' });
    proxies.push(proxy);
    const response = await fetch(`${proxy.url}/v2/`);
    expect(response.status).toBe(502);
    await response.body?.cancel();
  });

  it('status-503 and rate-limit answer without asking the upstream', async () => {
    const proxy = await start({ mode: 'status-503', retryAfterSeconds: 7 });
    const unavailable = await fetch(`${proxy.url}/v2/a/manifests/latest`);
    expect(unavailable.status).toBe(503);
    expect(await unavailable.json()).toMatchObject({ errors: [{ code: 'UNAVAILABLE' }] });

    proxy.setMode('rate-limit');
    const limited = await fetch(`${proxy.url}/v2/a/manifests/latest`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toMatchObject({ errors: [{ code: 'TOOMANYREQUESTS' }] });
    expect(upstream.seen).toEqual([]);
    expect(proxy.requests).toMatchObject({ 'status-503': 1, 'rate-limit': 1, pass: 0 });
  });

  it('html answers a login page for any path; HEAD gets its headers only', async () => {
    const proxy = await start({ mode: 'html' });
    const page = await fetch(`${proxy.url}/v2/a/manifests/latest`, {
      headers: { accept: 'application/vnd.oci.image.index.v1+json' },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<form');

    const head = await rawRequest(`${proxy.url}/v2/a/manifests/latest`, { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, body: '' });
    if (!('headers' in head)) throw new Error('no answer');
    expect(head.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.headers['docker-content-digest']).toBeUndefined();
    expect(upstream.seen).toEqual([]);
  });

  it('reset drops the connection without an answer', async () => {
    const proxy = await start({ mode: 'reset' });
    expect(await rawRequest(`${proxy.url}/v2/`)).toEqual({ error: 'ECONNRESET' });
    expect(await errorOf(fetch(`${proxy.url}/v2/`))).toBeInstanceOf(TypeError);
    expect(proxy.requests.reset).toBe(2);
  });

  it('hang never answers: the client gives up, and close() ends the ones still waiting', async () => {
    const proxy = await start({ mode: 'hang' });
    const gaveUp = await errorOf(fetch(`${proxy.url}/v2/`, { signal: AbortSignal.timeout(200) }));
    expect((gaveUp as Error).name).toBe('TimeoutError');

    const waiting = rawRequest(`${proxy.url}/v2/`);
    while (proxy.requests.hang < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const closedAt = Date.now();
    await proxy.close();
    expect(await waiting).toEqual({ error: 'ECONNRESET' });
    expect(Date.now() - closedAt).toBeLessThan(1_000);
    expect(upstream.seen).toEqual([]);
  });

  it('slow forwards after the delay', async () => {
    const proxy = await start({ mode: 'slow', slowMs: 150 });
    const startedAt = Date.now();
    const response = await fetch(`${proxy.url}/v2/a/manifests/latest`);
    expect(response.status).toBe(201);
    await response.body?.cancel();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    expect(upstream.seen).toHaveLength(1);
  });

  it('a schedule cycles the modes over time; setMode overrides it until resumeSchedule', async () => {
    let clock = 1_000;
    const proxy = await start({
      schedule: [
        { mode: 'pass', ms: 100 },
        { mode: 'status-503', ms: 50 },
        { mode: 'rate-limit', ms: 50 },
      ],
      now: () => clock,
    });
    const statusAt = async (t: number) => {
      clock = 1_000 + t;
      const response = await fetch(`${proxy.url}/v2/a/manifests/latest`);
      await response.body?.cancel();
      return [proxy.mode, response.status];
    };
    expect(await statusAt(0)).toEqual(['pass', 201]);
    expect(await statusAt(99)).toEqual(['pass', 201]);
    expect(await statusAt(100)).toEqual(['status-503', 503]);
    expect(await statusAt(170)).toEqual(['rate-limit', 429]);
    expect(await statusAt(200)).toEqual(['pass', 201]); // the cycle starts again
    expect(await statusAt(310)).toEqual(['status-503', 503]);

    proxy.setMode('html');
    expect(await statusAt(0)).toEqual(['html', 200]);
    proxy.resumeSchedule();
    expect(await statusAt(0)).toEqual(['pass', 201]);
    expect(proxy.requests).toMatchObject({ pass: 4, 'status-503': 2, 'rate-limit': 1, html: 1 });
  });

  it('refuses options it cannot honour', async () => {
    const invalid: FaultProxyOptions[] = [
      { upstream: 'not a url' },
      { upstream: 'https://127.0.0.1:1' },
      { upstream: upstream.url(), schedule: [] },
      { upstream: upstream.url(), schedule: [{ mode: 'pass', ms: 0 }] },
      { upstream: upstream.url(), mode: 'explode' as never },
    ];
    for (const options of invalid) {
      const error = await errorOf(startFaultProxy(options));
      expect(isRealPartsError(error) && error.code).toBe('INVALID_OPTIONS');
    }
  });
});
