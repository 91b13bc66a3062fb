import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Authority } from './authority.js';
import { BodyTooLargeError } from './body.js';
import { describeAuthorization, parseAuthorization } from './credentials.js';
import { Exchange } from './exchange.js';
import { FaultTable } from './faults.js';
import { createRandomImage } from './random-image.js';
import { handleRegistry, type Upload } from './registry-handler.js';
import { matchRoute } from './routes.js';
import { ContentStore } from './store.js';
import { handleToken } from './token-handler.js';
import type { FakeRegistry, FakeRegistryOptions, RecordedRequest } from './types.js';

const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-registry-auth',
]);

interface Listener {
  readonly server: Server;
  readonly sockets: Set<Socket>;
  readonly url: string;
  readonly host: string;
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Listener> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return { server, sockets, url: `http://${host}`, host };
}

async function closeListener(listener: Listener): Promise<void> {
  const closed = new Promise<void>((resolve) => listener.server.close(() => resolve()));
  listener.server.closeAllConnections();
  for (const socket of listener.sockets) socket.destroy();
  await closed;
}

function safeHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || SECRET_HEADERS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function queryOf(url: URL): Pick<RecordedRequest, 'query' | 'queryAll'> {
  const queryAll: Record<string, string[]> = {};
  for (const name of new Set(url.searchParams.keys()))
    queryAll[name] = url.searchParams.getAll(name);
  const query = Object.fromEntries(
    Object.entries(queryAll).map(([name, values]) => [name, values.join(' ')]),
  );
  return { query, queryAll };
}

/**
 * Starts an in-process OCI registry on 127.0.0.1, port 0.
 *
 * @example
 * const registry = await startFakeRegistry({ auth: 'bearer', users: [{ username: 'u', password: 'p' }] });
 * const digest = registry.pushRandomImage('molecule-ai/workspace-template-langgraph');
 * // ... point a client at registry.host ...
 * await registry.close();
 */
export async function startFakeRegistry(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
  const mode = options.auth ?? 'none';
  const users = options.users ?? [];
  const service = options.service ?? 'fake-registry';
  const tokenExpiresInSeconds = options.tokenExpiresInSeconds ?? 300;
  const authority = new Authority({
    mode,
    users,
    identityTokens: options.identityTokens ?? [],
    allowAnonymousPull: options.allowAnonymousPull ?? users.length === 0,
    tokenExpiresInSeconds,
    service,
  });
  const store = new ContentStore();
  const faults = new FaultTable();
  const uploads = new Map<string, Upload>();
  const requests: RecordedRequest[] = [];
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let latencyMs = options.latencyMs ?? 0;
  let closing: Promise<void> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      timers.add(entry);
    });

  const handle = async (
    origin: RecordedRequest['origin'],
    req: IncomingMessage,
    res: ServerResponse,
  ) => {
    const url = new URL(req.url ?? '/', 'http://fake-registry.invalid');
    const servesToken = origin === 'realm' || mode === 'bearer';
    const route = matchRoute(url.pathname, servesToken, origin === 'registry');
    const auth = parseAuthorization(req.headers.authorization);
    const record: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      ...queryOf(url),
      kind: route.kind,
      status: 0,
      presented: describeAuthorization(auth),
      headers: safeHeaders(req),
      origin,
      at: Date.now(),
    };
    requests.push(record);
    const ex = new Exchange(req, res, record, faults, sleep);
    if (origin === 'registry') res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    if (latencyMs > 0) await sleep(latencyMs);
    const fault = faults.take('arrival', record);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.reset) return ex.reset();
    if (fault?.status !== undefined) {
      const repository = 'repository' in route ? route.repository : undefined;
      const challenge = fault.status === 401 ? challengeFor(repository, ['pull']) : undefined;
      return ex.sendFault(
        { ...fault, status: fault.status },
        challenge === undefined ? {} : { 'WWW-Authenticate': challenge },
      );
    }
    if (route.kind === 'token') {
      return handleToken(
        {
          authority,
          service,
          omitExpiresIn: options.omitExpiresIn ?? false,
          fields: options.tokenResponseFields ?? 'both',
          now: Date.now,
        },
        ex,
        auth,
        url,
      );
    }
    if (origin === 'realm') return ex.sendJson(404, { details: 'not found' });
    return handleRegistry(
      { store, authority, uploads, challenge: challengeFor, now: Date.now },
      ex,
      route,
      auth,
      url,
    );
  };

  const onRequest =
    (origin: RecordedRequest['origin']) => (req: IncomingMessage, res: ServerResponse) => {
      handle(origin, req, res).catch((error: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const tooLarge = error instanceof BodyTooLargeError;
        res.writeHead(tooLarge ? 413 : 500, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(
          JSON.stringify({
            errors: [{ code: tooLarge ? 'SIZE_INVALID' : 'UNKNOWN', message: String(error) }],
          }),
        );
      });
    };

  const registry = await listen(onRequest('registry'));
  const realm = mode === 'bearer-external-realm' ? await listen(onRequest('realm')) : undefined;
  const realmUrl =
    mode === 'bearer' ? `${registry.url}/token` : realm ? `${realm.url}/token` : undefined;
  const basicRealm = `${registry.url}/`;

  function challengeFor(
    repository: string | undefined,
    actions: readonly string[],
    error?: 'invalid_token' | 'insufficient_scope',
  ): string | undefined {
    if (mode === 'none') return undefined;
    if (mode === 'basic') return `Basic realm="${basicRealm}"`;
    let value = `Bearer realm="${realmUrl}",service="${service}"`;
    if (repository !== undefined && actions.length > 0) {
      value += `,scope="repository:${repository}:${actions.join(',')}"`;
    }
    if (error !== undefined) value += `,error="${error}"`;
    return value;
  }

  return {
    url: registry.url,
    host: registry.host,
    realmUrl,
    service,
    putBlob: (content) => store.putBlob(content),
    putManifest: (repository, tag, manifest) =>
      store.putManifest(repository, tag, manifest.mediaType, manifest.body),
    pushRandomImage(repository, tag = 'latest', imageOptions = {}) {
      const image = createRandomImage(imageOptions);
      for (const blob of image.blobs) store.putBlob(blob);
      return store.putManifest(repository, tag, image.manifest.mediaType, image.manifest.body);
    },
    digestOf: (repository, tag) => store.resolve(repository, tag),
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    fault: (match, fault) => faults.add(match, fault),
    clearFaults: () => faults.clear(),
    setLatency(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`latency must be >= 0, got ${ms}`);
      latencyMs = ms;
    },
    revokeTokens: () => authority.revokeTokens(),
    close() {
      closing ??= (async () => {
        for (const entry of timers) {
          clearTimeout(entry.timer);
          entry.resolve();
        }
        timers.clear();
        await Promise.all([closeListener(registry), realm ? closeListener(realm) : undefined]);
      })();
      return closing;
    },
  };
}
