import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isRegistryError } from './errors.js';
import { createHttpPolicy, parseInsecureRegistries } from './http-policy.js';
import { resolveRetryOptions } from './retry-policy.js';
import { createTransport, type Transport } from './transport.js';

const servers: Server[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(
    servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
});

type Handler = (
  url: string,
  headers: IncomingHttpHeaders,
) => { status: number; headers?: Record<string, string>; body?: string };

async function serve(handler: Handler, seen: Array<{ url: string; authorization?: string }> = []) {
  const server = createServer((req, res) => {
    seen.push({
      url: req.url ?? '',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    const answer = handler(req.url ?? '', req.headers);
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body ?? '');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function transport(overrides: { maxRedirects?: number; env?: Record<string, string> } = {}) {
  const t = createTransport({
    connections: 4,
    connectTimeoutMs: 1000,
    headersTimeoutMs: 1000,
    bodyTimeoutMs: 1000,
    maxRedirects: overrides.maxRedirects ?? 5,
    retry: resolveRetryOptions({ baseDelayMs: 1, maxDelayMs: 2 }),
    policy: createHttpPolicy(parseInsecureRegistries(overrides.env?.MOLECULE_INSECURE_REGISTRIES)),
  });
  transports.push(t);
  return t;
}

const request = (url: string) => ({
  method: 'GET' as const,
  url: new URL(url),
  headers: { authorization: 'Bearer secret-token-abc' },
  kind: 'other' as const,
  maxBodyBytes: 1024,
});

describe('createTransport redirects', () => {
  it('keeps Authorization on a same-origin hop and drops it on a cross-origin hop', async () => {
    const other = await serve(() => ({ status: 200, body: 'elsewhere' }));
    const first = await serve((url) =>
      url === '/a'
        ? { status: 307, headers: { location: '/b' } }
        : url === '/b'
          ? { status: 302, headers: { location: `${other.origin}/c?x=1` } }
          : { status: 404 },
    );
    const response = await transport().send(request(`${first.origin}/a`));
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('elsewhere');
    expect(response.url.href).toBe(`${other.origin}/c?x=1`);
    expect(first.seen).toEqual([
      { url: '/a', authorization: 'Bearer secret-token-abc' },
      { url: '/b', authorization: 'Bearer secret-token-abc' },
    ]);
    expect(other.seen).toEqual([{ url: '/c?x=1' }]);
  });

  it('stops after maxRedirects', async () => {
    const loop = await serve(() => ({ status: 302, headers: { location: '/again' } }));
    const error = await transport({ maxRedirects: 3 })
      .send(request(`${loop.origin}/start`))
      .catch((e) => e);
    expect(isRegistryError(error) && error.code).toBe('BAD_RESPONSE');
    expect(loop.seen).toHaveLength(4);
  });

  it('refuses a redirect to plain http on a host that does not qualify', async () => {
    const server = await serve(() => ({
      status: 302,
      headers: { location: 'http://registry.example.com/x' },
    }));
    const error = await transport()
      .send(request(`${server.origin}/a`))
      .catch((e) => e);
    expect(isRegistryError(error) && error.code).toBe('CONFIG');
    expect(String(error.message)).not.toContain('secret-token-abc');
  });
});

describe('createTransport limits', () => {
  it('refuses a body over the size limit', async () => {
    const server = await serve(() => ({ status: 200, body: 'x'.repeat(2048) }));
    const error = await transport()
      .send(request(`${server.origin}/big`))
      .catch((e) => e);
    expect(isRegistryError(error) && error.code).toBe('BAD_RESPONSE');
  });

  it('does not retry a 400 and retries a 502', async () => {
    let calls = 0;
    const server = await serve((url) => {
      calls++;
      return url === '/bad' ? { status: 400 } : { status: calls < 3 ? 502 : 200 };
    });
    const t = transport();
    expect((await t.send(request(`${server.origin}/bad`))).status).toBe(400);
    expect(calls).toBe(1);
    expect((await t.send(request(`${server.origin}/flaky`))).status).toBe(200);
    expect(calls).toBe(3);
  });
});
