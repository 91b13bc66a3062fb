import { request } from 'node:http';

/**
 * The engine's `X-Registry-Auth` value: JSON `{ username, password, serveraddress }` in Go's
 * `base64.URLEncoding`, i.e. base64url WITH '=' padding (the engine silently ignores a value
 * it cannot decode and pulls anonymously).
 */
export function encodeRegistryAuth(auth: {
  username: string;
  password: string;
  serveraddress: string;
}): string {
  return Buffer.from(JSON.stringify(auth))
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

export interface EnginePullResult {
  /** HTTP status of POST /images/create: 500 for refused credentials, 404 for a missing tag. */
  status: number;
  /** Progress lines of a 200 stream, or the error body otherwise. */
  messages: { status?: string; error?: string; errorDetail?: { message?: string } }[];
  /** First `error` of the stream or the error body's message; undefined on success. */
  error: string | undefined;
}

/**
 * Pull through a Docker engine's API on a unix socket: `POST /images/create?fromImage=…&tag=…`
 * with an optional X-Registry-Auth, draining the progress stream, bounded by `timeoutMs`
 * (a stalled blob can hang a pull for minutes).
 */
export function pullWithEngine(options: {
  socketPath: string;
  /** `host:port/repo` without tag */
  fromImage: string;
  tag: string;
  registryAuth?: string;
  timeoutMs?: number;
}): Promise<EnginePullResult> {
  const query = new URLSearchParams({ fromImage: options.fromImage, tag: options.tag });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: options.socketPath,
        method: 'POST',
        path: `/images/create?${query}`,
        headers: options.registryAuth ? { 'x-registry-auth': options.registryAuth } : {},
        timeout: options.timeoutMs ?? 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const messages = text
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) => {
              try {
                return JSON.parse(line) as EnginePullResult['messages'][number];
              } catch {
                return { error: line };
              }
            });
          const status = res.statusCode ?? 0;
          const failed = messages.find((message) => message.error ?? message.errorDetail);
          const error =
            status === 200
              ? (failed?.error ?? failed?.errorDetail?.message)
              : ((messages[0] as { message?: string } | undefined)?.message ?? text.trim());
          resolve({ status, messages, error });
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`pull of ${options.fromImage}:${options.tag} timed out`)),
    );
    req.on('error', reject);
    req.end();
  });
}
