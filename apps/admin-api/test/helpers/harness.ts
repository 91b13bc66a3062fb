import { createCredentialResolver } from '@molecule/registry-client';
import { type App, buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDocker } from '../../src/engine.js';
import { createMetrics } from '../../src/metrics.js';
import { type FakeEngine, startFakeEngine } from './fake-engine.js';

export const TOKEN = 'test-admin-token-0123456789';
export const REGISTRY_USER = 'mirror-bot';
export const REGISTRY_PASSWORD = 's3cret-registry-password';
export const PREFIX = 'registry.example.test:5000/mirror/molecule';

export interface Harness {
  readonly app: App;
  readonly engine: FakeEngine;
  /** Every log line written so far. */
  readonly logs: string[];
  readonly auth: { authorization: string };
  image(runtime: string): string;
  close(): Promise<void>;
}

/** The app wired to a fake engine on a unix socket, with env credentials for the mirror. */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
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
  const logs: string[] = [];
  const app = await buildApp(config, {
    docker: createDocker(config.docker, '1.41'),
    credentials: createCredentialResolver({ env: config.env }),
    metrics: createMetrics({ defaultMetrics: false }),
    logStream: { write: (line: string) => void logs.push(line) },
    shutdownTimeoutMs: 2000,
  });
  return {
    app,
    engine,
    logs,
    auth: { authorization: `Bearer ${TOKEN}` },
    image: (runtime) => `${PREFIX}/workspace-template-${runtime}:latest`,
    async close() {
      await app.close();
      await engine.close();
    },
  };
}
