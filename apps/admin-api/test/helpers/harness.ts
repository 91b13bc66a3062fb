import { createCredentialResolver } from '@molecule/registry-client';
import { type RunningServer, serve } from '@molecule/service-kit';
import { memoryLogger } from '@molecule/service-kit/testing';
import type { FastifyInstance } from 'fastify';
import { type AppDeps, buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createDocker } from '../../src/engine/connect.js';
import { createMetrics } from '../../src/metrics.js';
import type { RefreshService } from '../../src/refresh/service.js';
import { type FakeEngine, startFakeEngine } from './fake-engine.js';

export const TOKEN = 'test-admin-token-0123456789';
export const REGISTRY_USER = 'mirror-bot';
export const REGISTRY_PASSWORD = 's3cret-registry-password';
export const PREFIX = 'registry.example.test:5000/mirror/molecule';

export interface Harness {
  readonly app: FastifyInstance;
  readonly service: RefreshService;
  readonly config: Config;
  readonly engine: FakeEngine;
  /** Every log line written so far. */
  readonly logs: readonly string[];
  readonly auth: { authorization: string };
  image(runtime: string): string;
  /** Listens on a free port and shuts down (as the bin does) when `stop` resolves. */
  serve(options: { graceMs: number; stop: Promise<string> }): Promise<RunningServer>;
  close(): Promise<void>;
}

/** The app wired to a fake engine on a unix socket, with env credentials for the mirror. */
export async function startHarness(
  env: Record<string, string> = {},
  deps: Pick<AppDeps, 'registry'> = {},
): Promise<Harness> {
  const engine = await startFakeEngine();
  const config = loadConfig({
    MOLECULE_ADMIN_TOKEN: TOKEN,
    MOLECULE_IMAGE_REGISTRY: PREFIX,
    MOLECULE_REGISTRY_USERNAME: REGISTRY_USER,
    MOLECULE_REGISTRY_PASSWORD: REGISTRY_PASSWORD,
    DOCKER_HOST: `unix://${engine.socketPath}`,
    ADMIN_API_STOP_GRACE_SECONDS: '3',
    LOG_LEVEL: 'debug',
    DOCKER_CONFIG: '/nonexistent-docker-config',
    ...env,
  });
  const log = memoryLogger({ service: 'admin-api', level: config.logLevel });
  const { logger } = log;
  const { http, refreshService } = await buildApp(config, {
    docker: createDocker(config.docker, '1.41'),
    credentials: createCredentialResolver({ settings: config.registry }),
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    ...deps,
  });
  let served: RunningServer | undefined;
  return {
    app: http,
    service: refreshService,
    config,
    engine,
    get logs() {
      return log
        .text()
        .split('\n')
        .filter((line) => line !== '');
    },
    auth: { authorization: `Bearer ${TOKEN}` },
    image: (runtime) => `${PREFIX}/workspace-template-${runtime}:latest`,
    async serve({ graceMs, stop }) {
      served = await serve({
        app: http,
        host: '127.0.0.1',
        port: 0,
        logger,
        graceMs,
        stop,
        drain: (signal, cancelAt) => refreshService.drain(signal, cancelAt),
      });
      return served;
    },
    async close() {
      if (served !== undefined) await served.shutdown('test over');
      else await http.close();
      await engine.close();
    },
  };
}
