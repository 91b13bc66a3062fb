import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getFreePort } from '@molecule/real-parts';
import type { ImagePublisher } from './image-publisher.js';
import { type RecordingProxy, startRecordingProxy } from './recording-proxy.js';
import { sharedEnvironment, startHealthyService } from './service-launch.js';
import type { LogLine, ServiceName, ServiceProcess } from './service-process.js';
import { waitFor } from './wait.js';

export interface StackOptions {
  readonly publisher: ImagePublisher;
  /** The real engine's socket; admin-api reaches it through a recording proxy. */
  readonly engineSocketPath: string;
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly workDir: string;
  /** IMAGE_WATCH_INTERVAL as the operator writes it (`2s`, `5m`, or milliseconds). */
  readonly interval: string;
  readonly adminToken: string;
  /** Record every outbound connection of both services (the e2e suite's step 4). */
  readonly recordConnections?: boolean;
  readonly onLine?: (line: LogLine, service: ServiceName) => void;
  /**
   * More environment for both services (e.g. the signed-image gate's variables), after the
   * shared registry variables and before each service's own (host, port, socket, state file).
   */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export interface Stack {
  readonly adminApi: ServiceProcess;
  readonly imagewatch: ServiceProcess;
  readonly engineProxy: RecordingProxy;
  readonly adminProxy: RecordingProxy;
  readonly adminApiUrl: string;
  readonly imagewatchUrl: string;
  readonly stateFile: string;
  readonly connectionLog: string;
  /** Starts imagewatch again (after stopImagewatch), with the same state file. */
  restartImagewatch(): Promise<ServiceProcess>;
  stopImagewatch(): Promise<void>;
  /** Runtimes imagewatch asked admin-api to refresh, in order. */
  refreshedRuntimes(): string[];
  /** Image references admin-api pulled through the engine, in order. */
  pulledReferences(): string[];
  /** The seen digests imagewatch has persisted, keyed by full image reference. */
  readSeenDigests(): Promise<Record<string, string>>;
  /** Waits until imagewatch has persisted a digest for `count` references; returns them. */
  waitForSeeded(count: number, timeoutMs?: number): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * Starts admin-api and imagewatch from their built bins, configured by environment only,
 * exactly as an operator would, with recording proxies in front of the engine and admin-api.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const stateFile = join(options.workDir, 'imagewatch', 'state.json');
  const connectionLog = join(options.workDir, 'connections.jsonl');

  const engineProxy = await startRecordingProxy({
    listen: { socketPath: join(options.workDir, 'engine.sock') },
    upstream: { socketPath: options.engineSocketPath },
  });
  const adminPort = await getFreePort();
  const adminApiUrl = `http://127.0.0.1:${adminPort}`;
  const adminProxy = await startRecordingProxy({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: adminPort },
    expectedBearer: options.adminToken,
  });

  const registryEnv = await sharedEnvironment({
    prefix: options.publisher.prefix,
    adminToken: options.adminToken,
    workDir: options.workDir,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const common = {
    ...(options.recordConnections ? { connectionLog } : {}),
    ...(options.onLine ? { onLine: options.onLine } : {}),
  };
  const adminApi = await startHealthyService(
    'admin-api',
    {
      ...common,
      env: {
        ...registryEnv,
        ...options.extraEnv,
        ADMIN_API_HOST: '127.0.0.1',
        ADMIN_API_PORT: String(adminPort),
        DOCKER_HOST: `unix://${engineProxy.address}`,
      },
    },
    `${adminApiUrl}/healthz`,
  );

  const imagewatchPort = await getFreePort();
  const imagewatchUrl = `http://127.0.0.1:${imagewatchPort}`;
  const startImagewatch = () =>
    startHealthyService(
      'imagewatch',
      {
        ...common,
        args: ['run'],
        env: {
          ...registryEnv,
          ...options.extraEnv,
          IMAGE_WATCH_INTERVAL: options.interval,
          IMAGE_AUTO_REFRESH: 'true',
          MOLECULE_ADMIN_API_URL: adminProxy.address,
          IMAGE_WATCH_STATE_FILE: stateFile,
          IMAGE_WATCH_PORT: String(imagewatchPort),
        },
      },
      `${imagewatchUrl}/healthz`,
    );
  let imagewatch = await startImagewatch();
  const readSeenDigests = async (): Promise<Record<string, string>> => {
    let text: string;
    try {
      text = await readFile(stateFile, 'utf8');
    } catch {
      return {};
    }
    const state = JSON.parse(text) as { images?: Record<string, { digest?: string }> };
    return Object.fromEntries(
      Object.entries(state.images ?? {}).map(([ref, entry]) => [ref, entry.digest ?? '']),
    );
  };

  return {
    adminApi,
    get imagewatch() {
      return imagewatch;
    },
    engineProxy,
    adminProxy,
    adminApiUrl,
    imagewatchUrl,
    stateFile,
    connectionLog,
    async restartImagewatch() {
      await imagewatch.stop();
      imagewatch = await startImagewatch();
      return imagewatch;
    },
    async stopImagewatch() {
      await imagewatch.stop();
    },
    refreshedRuntimes() {
      return adminProxy.requests
        .filter((r) => r.method === 'POST' && r.url.startsWith('/admin/workspace-images/refresh'))
        .map((r) => new URL(r.url, 'http://x').searchParams.get('runtime') ?? '(all)');
    },
    pulledReferences() {
      return engineProxy.requests
        .filter((r) => r.method === 'POST' && /\/images\/create\?/.test(r.url))
        .map((r) => {
          const params = new URL(r.url, 'http://x').searchParams;
          const tag = params.get('tag');
          return `${params.get('fromImage')}${tag ? `:${tag}` : ''}`;
        });
    },
    readSeenDigests,
    waitForSeeded(count, timeoutMs = 30_000) {
      return waitFor(
        `imagewatch to seed ${count} references`,
        async () => {
          const digests = await readSeenDigests();
          return Object.keys(digests).length === count ? digests : undefined;
        },
        timeoutMs,
      );
    },
    async close() {
      await Promise.allSettled([imagewatch.stop(), adminApi.stop()]);
      await Promise.allSettled([engineProxy.close(), adminProxy.close()]);
    },
  };
}
