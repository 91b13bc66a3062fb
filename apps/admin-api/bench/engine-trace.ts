/**
 * A timing proxy in front of the bench's dockerd: a unix socket that forwards every Engine API
 * request unchanged and records when it arrived and when its response ended. Both sides of the
 * bench (the service and the docker CLI) talk to the engine through it, so both pay the same
 * small forwarding cost and both get the same per-call account of where their time went.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';

export interface EngineCall {
  readonly method: string;
  /** The path without the `/v1.xx` prefix and without the query. */
  readonly path: string;
  readonly query: string;
  readonly status: number;
  /** performance.now() when the request arrived and when its response ended. */
  readonly start: number;
  readonly end: number;
  /** Index of the client connection it came on (keep-alive shows as one connection, many calls). */
  readonly connection: number;
}

export interface EngineTrace {
  readonly socketPath: string;
  /** `unix://<socketPath>`, for DOCKER_HOST and `docker -H`. */
  readonly dockerHost: string;
  /** Calls that finished since the last `take()`, and the client connections opened. */
  take(): { calls: EngineCall[]; connections: number };
  close(): Promise<void>;
}

/** Hop-by-hop headers are the proxy's own business on each leg (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

export async function startEngineTrace(upstreamSocket: string): Promise<EngineTrace> {
  const dir = await mkdtemp('/tmp/rpt-');
  const socketPath = join(dir, 'trace.sock');
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  let calls: EngineCall[] = [];
  let connections = 0;

  const server = createServer((req, res) => {
    const start = performance.now();
    const connection = (req.socket as Socket & { traceIndex?: number }).traceIndex ?? -1;
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const fullPath = queryAt === -1 ? url : url.slice(0, queryAt);
    const path = fullPath.replace(/^\/v\d+\.\d+(?=\/)/, '');
    const query = queryAt === -1 ? '' : url.slice(queryAt + 1);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name)),
    );
    const upstream = request(
      { socketPath: upstreamSocket, method: req.method, path: url, headers, agent },
      (answer) => {
        const status = answer.statusCode ?? 0;
        const responseHeaders = Object.fromEntries(
          Object.entries(answer.headers).filter(([name]) => !HOP_BY_HOP.has(name)),
        );
        res.writeHead(status, responseHeaders);
        answer.pipe(res);
        res.on('finish', () =>
          calls.push({
            method: req.method ?? '',
            path,
            query,
            status,
            start,
            end: performance.now(),
            connection,
          }),
        );
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket: Socket & { traceIndex?: number }) => {
    socket.traceIndex = connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });

  return {
    socketPath,
    dockerHost: `unix://${socketPath}`,
    take() {
      const taken = { calls, connections };
      calls = [];
      connections = 0;
      for (const socket of sockets) (socket as Socket & { traceIndex?: number }).traceIndex = -1;
      return taken;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Which step of a refresh an engine call belongs to. */
export type CallKind =
  | 'pull'
  | 'image-inspect'
  | 'list'
  | 'inspect'
  | 'stop'
  | 'remove'
  | 'meta'
  | 'other';

export function callKind(call: Pick<EngineCall, 'method' | 'path'>): CallKind {
  const { method, path } = call;
  if (method === 'POST' && path === '/images/create') return 'pull';
  if (method === 'GET' && /^\/images\/.+\/json$/.test(path)) return 'image-inspect';
  if (method === 'GET' && path === '/containers/json') return 'list';
  if (method === 'GET' && /^\/containers\/[^/]+\/json$/.test(path)) return 'inspect';
  if (method === 'POST' && /^\/containers\/[^/]+\/stop$/.test(path)) return 'stop';
  if (method === 'DELETE' && /^\/containers\/[^/]+$/.test(path)) return 'remove';
  if (path === '/_ping' || path === '/version' || path === '/info') return 'meta';
  return 'other';
}

/** The container id or name a container call addresses. */
export function callContainer(call: Pick<EngineCall, 'path'>): string | undefined {
  return /^\/containers\/([^/]+)/.exec(call.path)?.[1];
}
