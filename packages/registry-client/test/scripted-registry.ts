import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import {
  createCredentialResolver,
  createRegistryClient,
  type RegistryClient,
  type RegistryClientOptions,
  type RegistryRequestEvent,
} from '../src/index.js';

/** What the scripted registry answers to one request. */
export interface ScriptedAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

export interface ScriptedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export type ScriptedHandler = (request: ScriptedRequest) => ScriptedAnswer;

export interface ScriptedRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly origin: string;
  /** Every request but the `/v2/` ping, in order. */
  readonly requests: readonly ScriptedRequest[];
  readonly client: RegistryClient;
  readonly events: RegistryRequestEvent[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/**
 * A registry that answers exactly what the test scripts, for responses no real registry
 * (and not the fake one) gives: a login page where a manifest should be, a body of another
 * kind than its Content-Type says, redirects to blob storage. `GET /v2/` answers 200 (or
 * 401 with a Basic challenge under `basic`). A server on port 0 and a client for it, both
 * closed after the test.
 */
export async function startScriptedRegistry(
  handler: ScriptedHandler,
  options: {
    /** Basic auth on every request (the ping included); the client gets these credentials. */
    basic?: { username: string; password: string };
    client?: Partial<RegistryClientOptions>;
  } = {},
): Promise<ScriptedRegistry> {
  const requests: ScriptedRequest[] = [];
  const expected = options.basic
    ? `Basic ${Buffer.from(`${options.basic.username}:${options.basic.password}`).toString('base64')}`
    : undefined;
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (expected !== undefined && req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="scripted"', 'content-length': '0' });
      res.end();
      return;
    }
    if (path === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    const request = { method: req.method ?? 'GET', path, headers: req.headers };
    requests.push(request);
    const answer = handler(request);
    const body = answer.body === undefined ? Buffer.alloc(0) : Buffer.from(answer.body);
    res.writeHead(answer.status, {
      'content-length': String(body.length),
      ...answer.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  const env = {
    MOLECULE_IMAGE_REGISTRY: `${host}/acme`,
    DOCKER_CONFIG: '/nonexistent-docker-config',
    ...(options.basic
      ? {
          MOLECULE_REGISTRY_USERNAME: options.basic.username,
          MOLECULE_REGISTRY_PASSWORD: options.basic.password,
        }
      : {}),
  };
  const events: RegistryRequestEvent[] = [];
  const client = createRegistryClient({
    credentials: createCredentialResolver({ env }),
    env,
    onRequest: (event) => events.push(event),
    retry: { baseDelayMs: 2, maxDelayMs: 10 },
    ...options.client,
  });
  cleanups.push(() => client.close());
  return { host, origin: `http://${host}`, requests, client, events };
}
