import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigningKey } from './certs.js';
import { RealPartsError } from './errors.js';
import {
  getFreePort,
  hasExited,
  removeDir,
  runCommand,
  spawnLogged,
  tailFile,
  terminate,
  waitUntil,
} from './process.js';
import { startTokenServer, type TokenServer } from './token-server.js';

export type DistributionAuth = 'none' | 'htpasswd' | 'token';

export interface DistributionUser {
  username: string;
  password: string;
}

export interface DistributionOptions {
  auth?: DistributionAuth;
  /** Accounts for 'htpasswd' and 'token'; default one user, see {@link DEFAULT_USERS}. */
  users?: DistributionUser[];
  /** 'token' only: anonymous token requests get pull access (never push). */
  allowAnonymousPull?: boolean;
  /** The registry's `notifications.endpoints`: webhook per push/pull event. */
  notifications?: { url: string; headers?: Record<string, string> }[];
}

export interface Distribution {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>` */
  host: string;
  auth: DistributionAuth;
  users: readonly DistributionUser[];
  tokenServer?: TokenServer;
  /** The private temp dir holding config, storage, log (removed by close). */
  dir: string;
  logFile: string;
  /** pid of the docker-registry process */
  pid: number;
  close(): Promise<void>;
}

export const DEFAULT_USERS: readonly DistributionUser[] = [
  { username: 'molecule', password: 'molecule-real-parts-secret' },
];

const START_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;

function registryConfig(options: {
  dir: string;
  port: number;
  auth: unknown;
  notifications: DistributionOptions['notifications'];
}): string {
  const config: Record<string, unknown> = {
    version: '0.1',
    log: { level: 'info', formatter: 'text', accesslog: { disabled: false } },
    storage: {
      filesystem: { rootdirectory: join(options.dir, 'data') },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${options.port}`, secret: 'real-parts-not-a-secret' },
  };
  if (options.auth) config.auth = options.auth;
  if (options.notifications?.length) {
    config.notifications = {
      endpoints: options.notifications.map((endpoint, index) => ({
        name: `real-parts-${index}`,
        url: endpoint.url,
        // distribution wants header values as lists
        headers: Object.fromEntries(
          Object.entries(endpoint.headers ?? {}).map(([name, value]) => [name, [value]]),
        ),
        timeout: '1s',
        threshold: 3,
        backoff: '1s',
      })),
    };
  }
  // JSON is YAML: no YAML writer needed.
  return JSON.stringify(config, null, 2);
}

async function pingStatus(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

/**
 * Start the CNCF distribution registry (`docker-registry serve`) on a free loopback port,
 * with its own temp dir, optionally behind htpasswd (bcrypt) Basic auth or Bearer tokens
 * from an in-process token server.
 *
 * @example
 * const registry = await startDistribution({ auth: 'token', users: [{ username: 'u', password: 'p' }] });
 * try { ... registry.url ... } finally { await registry.close(); }
 */
export async function startDistribution(options: DistributionOptions = {}): Promise<Distribution> {
  const auth = options.auth ?? 'none';
  const users = options.users ?? (auth === 'none' ? [] : [...DEFAULT_USERS]);
  if (options.allowAnonymousPull && auth !== 'token') {
    throw new RealPartsError(
      'INVALID_OPTIONS',
      `allowAnonymousPull needs auth 'token' (distribution's ${auth} auth cannot allow anonymous pulls)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'rp-registry-'));
  const logFile = join(dir, 'registry.log');
  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;
  try {
    let authConfig: unknown;
    if (auth === 'htpasswd') {
      const lines: string[] = [];
      for (const user of users) {
        // -i reads the password from stdin so it never shows in a process list
        lines.push(
          (await runCommand('htpasswd', ['-nBi', user.username], { input: user.password })).trim(),
        );
      }
      const path = join(dir, 'htpasswd');
      await writeFile(path, `${lines.join('\n')}\n`, { mode: 0o600 });
      authConfig = { htpasswd: { realm: 'real-parts-basic', path } };
    } else if (auth === 'token') {
      const key = await createSigningKey(dir);
      tokenServer = await startTokenServer({
        key,
        users,
        allowAnonymousPull: options.allowAnonymousPull ?? false,
      });
      authConfig = {
        token: {
          realm: tokenServer.realm,
          service: tokenServer.service,
          issuer: tokenServer.issuer,
          rootcertbundle: key.certificatePath,
        },
      };
    }

    for (let attempt = 1; ; attempt++) {
      const port = await getFreePort();
      const configPath = join(dir, 'config.yml');
      await writeFile(
        configPath,
        registryConfig({ dir, port, auth: authConfig, notifications: options.notifications }),
      );
      const url = `http://127.0.0.1:${port}`;
      // A clean environment: REGISTRY_* variables would override the config file.
      child = await spawnLogged('docker-registry', ['serve', configPath], {
        logFile,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
        cwd: dir,
      });
      const running = child;
      const ready = await waitUntil(
        async () => {
          const status = await pingStatus(url);
          return status === 200 || status === 401;
        },
        { timeoutMs: START_TIMEOUT_MS, abortIf: () => hasExited(running) },
      );
      if (ready) {
        const started = child;
        const server = tokenServer;
        let closing: Promise<void> | undefined;
        return {
          url,
          host: `127.0.0.1:${port}`,
          auth,
          users,
          ...(server ? { tokenServer: server } : {}),
          dir,
          logFile,
          pid: started.pid ?? 0,
          close: () => {
            closing ??= (async () => {
              await terminate(started, 5_000);
              await server?.close();
              await removeDir(dir);
            })();
            return closing;
          },
        };
      }
      await terminate(child, 2_000);
      const log = await tailFile(logFile);
      if (attempt >= START_ATTEMPTS || !/address already in use/i.test(log)) {
        throw new RealPartsError(
          'START_FAILED',
          `docker-registry did not answer GET ${url}/v2/ within ${START_TIMEOUT_MS} ms; log tail:\n${log}`,
        );
      }
    }
  } catch (error) {
    if (child) await terminate(child, 2_000);
    await tokenServer?.close();
    await removeDir(dir);
    throw error;
  }
}
