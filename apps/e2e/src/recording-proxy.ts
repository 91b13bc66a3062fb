import { rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy keeps of one X-Registry-Auth header: never the password itself. */
export interface RecordedRegistryAuth {
  /** The header is Go's base64.URLEncoding (padding kept), the only form the engine decodes. */
  readonly goUrlEncoding: boolean;
  readonly serveraddress: string | undefined;
  readonly username: string | undefined;
  readonly hasPassword: boolean;
  readonly hasIdentityToken: boolean;
}

export interface RecordedProxyRequest {
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  /** `Authorization: Bearer <expected>` was presented (the value itself is not kept). */
  readonly bearerMatched: boolean;
  readonly registryAuth: RecordedRegistryAuth | undefined;
}

export type ProxyEndpoint =
  | { readonly socketPath: string }
  | { readonly host: string; readonly port: number };

export interface RecordingProxy {
  /** Where clients connect: a unix socket path, or `http://127.0.0.1:<port>`. */
  readonly address: string;
  readonly requests: readonly RecordedProxyRequest[];
  close(): Promise<void>;
}

function inspectRegistryAuth(header: string): RecordedRegistryAuth {
  const goUrlEncoding = /^[A-Za-z0-9_-]*={0,2}$/.test(header) && header.length % 4 === 0;
  let decoded: Record<string, unknown> = {};
  try {
    decoded = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    // Undecodable: every field below stays empty and the assertions say so.
  }
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    goUrlEncoding,
    serveraddress: text(decoded.serveraddress),
    username: text(decoded.username),
    hasPassword: Boolean(text(decoded.password)),
    hasIdentityToken: Boolean(text(decoded.identitytoken)),
  };
}

/**
 * A recording HTTP proxy: in front of the engine's unix socket it shows what admin-api sent
 * the engine (pulls, `X-Registry-Auth`); in front of admin-api it shows what imagewatch asked
 * for. Requests are forwarded unchanged and streamed both ways.
 */
export async function startRecordingProxy(options: {
  listen: ProxyEndpoint;
  upstream: ProxyEndpoint;
  expectedBearer?: string;
}): Promise<RecordingProxy> {
  const requests: RecordedProxyRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const method = incoming.method ?? 'GET';
    const url = incoming.url ?? '/';
    const auth = incoming.headers['x-registry-auth'];
    const entry: { -readonly [K in keyof RecordedProxyRequest]: RecordedProxyRequest[K] } = {
      method,
      url,
      status: undefined,
      bearerMatched:
        options.expectedBearer !== undefined &&
        incoming.headers.authorization === `Bearer ${options.expectedBearer}`,
      registryAuth: typeof auth === 'string' ? inspectRegistryAuth(auth) : undefined,
    };
    requests.push(entry);
    const target =
      'socketPath' in options.upstream
        ? { socketPath: options.upstream.socketPath }
        : options.upstream;
    const upstream = request(
      { ...target, method, path: url, headers: incoming.headers },
      (response) => {
        entry.status = response.statusCode;
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstream.on('error', (error) => {
      if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ message: `recording proxy: ${error.message}` }));
    });
    incoming.pipe(upstream);
  });
  if ('socketPath' in options.listen) await rm(options.listen.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('socketPath' in options.listen) server.listen(options.listen.socketPath, resolve);
    else server.listen(options.listen.port, options.listen.host, resolve);
  });
  const address =
    'socketPath' in options.listen
      ? options.listen.socketPath
      : `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    address,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if ('socketPath' in options.listen) await rm(options.listen.socketPath, { force: true });
    },
  };
}
