/**
 * A fleet: one admin-api per Docker host (each behind a recording proxy, so calls can be
 * counted and ordered) and one imagewatch rolling out across them (`IMAGE_WATCH_HOSTS`),
 * all started from their built bins and configured by environment only.
 */
import { join } from 'node:path';
import { getFreePort } from '@molecule/real-parts';
import { type RecordingProxy, startRecordingProxy } from './recording-proxy.js';
import { sharedEnvironment, startHealthyService } from './service-launch.js';
import type { LogLine, ServiceName, ServiceProcess } from './service-process.js';

export interface FleetHostOptions {
  /** The host's name in IMAGE_WATCH_HOSTS. */
  readonly name: string;
  readonly engineSocketPath: string;
}

export interface FleetOptions {
  /** MOLECULE_IMAGE_REGISTRY. */
  readonly prefix: string;
  readonly hosts: readonly FleetHostOptions[];
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly workDir: string;
  readonly adminToken: string;
  /** imagewatch's own variables (interval, waves, soak, retries...), over the defaults. */
  readonly imagewatchEnv?: Readonly<Record<string, string>>;
  readonly onLine?: (line: LogLine, service: ServiceName, host?: string) => void;
}

export interface FleetHost {
  readonly name: string;
  readonly adminApi: ServiceProcess;
  /** What imagewatch calls: the recording proxy in front of this host's admin-api. */
  readonly proxy: RecordingProxy;
  /** `runtime` and `digest` of each refresh imagewatch asked this host for, in order. */
  refreshes(): Array<{ runtime: string | null; digest: string | null }>;
}

export interface Rollout {
  readonly id: string;
  readonly runtime: string;
  readonly from: string | null;
  readonly to: string;
  readonly state: string;
  readonly waves: string[][];
  readonly hosts: Array<{ name: string; state: string; attempts: number; error?: string }>;
}

export interface Fleet {
  readonly hosts: readonly FleetHost[];
  readonly imagewatch: ServiceProcess;
  readonly imagewatchUrl: string;
  /** `GET /rollouts`, newest first. */
  rollouts(query?: string): Promise<Rollout[]>;
  /** `POST /rollouts/<id>/<action>`; resolves with the status and body. */
  act(
    id: string,
    action: 'resume' | 'abort' | 'rollback',
  ): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const env = await sharedEnvironment({
    prefix: options.prefix,
    adminToken: options.adminToken,
    workDir: options.workDir,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const started: Array<{ stop(): Promise<unknown> }> = [];
  const proxies: RecordingProxy[] = [];
  const close = async () => {
    await Promise.allSettled(started.map((service) => service.stop()));
    await Promise.allSettled(proxies.map((proxy) => proxy.close()));
  };
  try {
    const hosts: FleetHost[] = [];
    for (const host of options.hosts) {
      const port = await getFreePort();
      const adminApi = await startHealthyService(
        'admin-api',
        {
          env: {
            ...env,
            ADMIN_API_HOST: '127.0.0.1',
            ADMIN_API_PORT: String(port),
            DOCKER_HOST: `unix://${host.engineSocketPath}`,
            // A stopped engine is reported in seconds, not after the default pull timeout.
            ADMIN_API_PULL_TIMEOUT: '30s',
          },
          ...(options.onLine
            ? {
                onLine: (line: LogLine, service: ServiceName) =>
                  options.onLine!(line, service, host.name),
              }
            : {}),
        },
        `http://127.0.0.1:${port}/healthz`,
      );
      started.push(adminApi);
      const proxy = await startRecordingProxy({
        listen: { host: '127.0.0.1', port: 0 },
        upstream: { host: '127.0.0.1', port },
        expectedBearer: options.adminToken,
      });
      proxies.push(proxy);
      hosts.push({
        name: host.name,
        adminApi,
        proxy,
        refreshes: () =>
          proxy.requests
            .filter(
              (r) => r.method === 'POST' && r.url.startsWith('/admin/workspace-images/refresh'),
            )
            .map((r) => {
              const params = new URL(r.url, 'http://x').searchParams;
              return { runtime: params.get('runtime'), digest: params.get('digest') };
            }),
      });
    }

    const imagewatchPort = await getFreePort();
    const imagewatchUrl = `http://127.0.0.1:${imagewatchPort}`;
    const imagewatch = await startHealthyService(
      'imagewatch',
      {
        args: ['run'],
        env: {
          ...env,
          IMAGE_WATCH_INTERVAL: '1s',
          IMAGE_AUTO_REFRESH: 'true',
          IMAGE_WATCH_HOSTS: hosts.map((host) => `${host.name}=${host.proxy.address}`).join(','),
          IMAGE_WATCH_STATE_FILE: join(options.workDir, 'imagewatch', 'state.json'),
          IMAGE_WATCH_PORT: String(imagewatchPort),
          ...options.imagewatchEnv,
        },
        ...(options.onLine
          ? { onLine: (line: LogLine, service: ServiceName) => options.onLine!(line, service) }
          : {}),
      },
      `${imagewatchUrl}/healthz`,
    );
    started.push(imagewatch);
    const authorization = { authorization: `Bearer ${options.adminToken}` };
    return {
      hosts,
      imagewatch,
      imagewatchUrl,
      async rollouts(query = '') {
        const response = await fetch(`${imagewatchUrl}/rollouts${query}`, {
          headers: authorization,
        });
        if (response.status !== 200)
          throw new Error(`GET /rollouts: ${response.status} ${await response.text()}`);
        return (await response.json()) as Rollout[];
      },
      async act(id, action) {
        const response = await fetch(`${imagewatchUrl}/rollouts/${id}/${action}`, {
          method: 'POST',
          headers: authorization,
        });
        return { status: response.status, body: await response.json() };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
