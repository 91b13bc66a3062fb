/**
 * A small fake admin-api (node:http on 127.0.0.1, port 0) speaking the product contract (SPEC):
 * `POST /admin/workspace-images/refresh` and `GET /admin/workspace-images` with bearer auth.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedAdminCall {
  method: string;
  path: string;
  runtime: string | undefined;
  recreate: string | undefined;
  digest: string | undefined;
  /** `X-Rollout-Epoch`, when sent. */
  epoch: number | undefined;
  /** Whether the bearer token matched (the token itself is never recorded). */
  authorized: boolean;
  at: number;
}

export interface FakeAdminApi {
  readonly url: string;
  readonly calls: RecordedAdminCall[];
  readonly refreshes: RecordedAdminCall[];
  /** What GET /admin/workspace-images reports for a runtime. */
  setLocal(
    runtime: string,
    image: string,
    local: { id: string; digest: string | null } | null,
  ): void;
  /** The next `times` refreshes answer `status` (500 by default) or report the runtime as failed. */
  failRefresh(options: {
    times: number;
    status?: number;
    asFailedPull?: boolean;
    /** The error body's `code` (e.g. `STALE_EPOCH`). */
    code?: string;
  }): void;
  refreshDelayMs: number;
  close(): Promise<void>;
}

/**
 * `prefix`: the registry prefix the fake resolves runtime images under; a refresh to a digest
 * then shows that digest locally (as admin-api does after tagging it).
 */
export async function startFakeAdminApi(options: {
  token: string;
  prefix?: string;
}): Promise<FakeAdminApi> {
  const calls: RecordedAdminCall[] = [];
  const local = new Map<
    string,
    { runtime: string; image: string; local: { id: string; digest: string | null } | null }
  >();
  let failures:
    | { times: number; status: number; asFailedPull: boolean; code: string | undefined }
    | undefined;

  const api: FakeAdminApi = {
    url: '',
    calls,
    get refreshes() {
      return calls.filter((c) => c.method === 'POST');
    },
    setLocal(runtime, image, entry) {
      local.set(runtime, { runtime, image, local: entry });
    },
    failRefresh({ times, status = 500, asFailedPull = false, code }) {
      failures = { times, status, asFailedPull, code };
    },
    refreshDelayMs: 0,
    close: async () => {},
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const authorized = req.headers.authorization === `Bearer ${options.token}`;
    const call: RecordedAdminCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      runtime: url.searchParams.get('runtime') ?? undefined,
      recreate: url.searchParams.get('recreate') ?? undefined,
      digest: url.searchParams.get('digest') ?? undefined,
      epoch:
        typeof req.headers['x-rollout-epoch'] === 'string'
          ? Number(req.headers['x-rollout-epoch'])
          : undefined,
      authorized,
      at: Date.now(),
    };
    calls.push(call);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!authorized) return send(401, { error: 'unauthorized', code: 'UNAUTHORIZED' });
    if (req.method === 'GET' && url.pathname === '/admin/workspace-images') {
      return send(200, [...local.values()]);
    }
    if (req.method === 'POST' && url.pathname === '/admin/workspace-images/refresh') {
      const runtime = call.runtime ?? '';
      setTimeout(() => {
        if (failures && failures.times > 0) {
          failures.times -= 1;
          if (failures.asFailedPull)
            return send(200, { pulled: [], failed: [runtime], recreated: [] });
          return send(failures.status, {
            error: 'engine said no',
            code: failures.code ?? 'ENGINE_ERROR',
            partial_result: { pulled: [], failed: [runtime], recreated: [] },
          });
        }
        if (call.digest !== undefined) {
          const image =
            local.get(runtime)?.image ??
            `${options.prefix ?? 'registry.invalid/unknown'}/workspace-template-${runtime}:latest`;
          local.set(runtime, {
            runtime,
            image,
            local: { id: `sha256:${'e'.repeat(64)}`, digest: call.digest },
          });
        }
        send(200, { pulled: [runtime], failed: [], recreated: [`ws-${runtime}-1`] });
      }, api.refreshDelayMs);
      return;
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(api, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return api;
}
