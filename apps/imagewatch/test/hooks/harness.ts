/**
 * The `POST /hooks/registry` test rig: the app through `app.inject`, wired to a real watcher
 * (scripted registry client, real state store, fake admin-api), and the request helpers.
 * Shared by hooks-route.test.ts (distribution, GitHub) and hooks-route-harbor.test.ts.
 */
import { join } from 'node:path';
import type { ManifestDigest } from '@molecule/registry-client';
import { RegistryError } from '@molecule/registry-client';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach } from 'vitest';
import { createAdminClient } from '../../src/admin-client/client.js';
import { buildApp } from '../../src/app.js';
import { loadConfig, type WatchTarget } from '../../src/config.js';
import type { HookDispatcher } from '../../src/hooks/dispatcher.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { adminHosts } from '../../src/rollouts/hosts.js';
import { createFileStore } from '../../src/store/file-store.js';
import type { Watcher } from '../../src/watch/watcher.js';
import { type FakeAdminApi, startFakeAdminApi } from '../fake-admin-api.js';
import { hooksSettled, memoryLogger, rolloutsSettled, sha, tempDir } from '../helpers.js';
import {
  DISTRIBUTION_CONTENT_TYPE,
  distributionEnvelope,
  distributionEvent,
  signGitHubPayload,
} from './payloads.js';

export const ADMIN_TOKEN = 'admin-token-never-logged';
export const HOOK_TOKEN = 'hook-t0ken-never-logged';
export const GITHUB_SECRET = 'gh-s3cret-never-logged';
export const HOST = 'registry.example.com:5000';
export const REPO = 'molecule-ai/workspace-template-langgraph';
export const targets: WatchTarget[] = (['codex', 'langgraph'] as const).map((runtime) => ({
  runtime,
  image: `${HOST}/molecule-ai/workspace-template-${runtime}:latest`,
}));
export const LANGGRAPH = targets[1]!.image;

/** A registry client answering digests the test sets, optionally held until released. */
function scriptedClient() {
  const digests = new Map<string, string>();
  const state = { calls: 0, gate: undefined as Promise<void> | undefined };
  return {
    digests,
    state,
    async getManifestDigest(ref: string): Promise<ManifestDigest> {
      state.calls += 1;
      if (state.gate) await state.gate;
      const digest = digests.get(ref);
      if (!digest) throw new RegistryError({ code: 'NOT_FOUND', hint: 'no such tag', status: 404 });
      return { digest, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' };
    },
  };
}

let dir: string;
let cleanup: () => Promise<void>;
let admin: FakeAdminApi;
const closers: Array<() => Promise<unknown>> = [];

export interface Harness {
  app: FastifyInstance;
  client: ReturnType<typeof scriptedClient>;
  watcher: Watcher;
  hooks: HookDispatcher;
  metrics: Metrics;
  log: ReturnType<typeof memoryLogger>;
  /** Resolves once the checks the hooks triggered, and the rollouts they started, are done. */
  settled(): Promise<void>;
}

async function setupFn(
  secrets: { hookToken?: string; githubSecret?: string; registryHost?: string } = {
    hookToken: HOOK_TOKEN,
    githubSecret: GITHUB_SECRET,
  },
  options: { coalesceMs?: number } = {},
): Promise<Harness> {
  const registryHost = secrets.registryHost ?? HOST;
  const config = loadConfig({
    MOLECULE_IMAGE_REGISTRY: `${registryHost}/molecule-ai`,
    IMAGE_WATCH_RUNTIMES: targets.map((t) => t.runtime).join(','),
    IMAGE_WATCH_INTERVAL: '1h',
    IMAGE_AUTO_REFRESH: 'true',
    IMAGE_WATCH_CONCURRENCY: '4',
    MOLECULE_ADMIN_TOKEN: ADMIN_TOKEN,
    MOLECULE_ADMIN_API_URL: admin.url,
    IMAGE_WATCH_STATE_FILE: join(dir, 'state.json'),
    DOCKER_CONFIG: dir,
    ...(secrets.hookToken === undefined ? {} : { IMAGE_WATCH_HOOK_TOKEN: secrets.hookToken }),
    ...(secrets.githubSecret === undefined
      ? {}
      : { IMAGE_WATCH_GITHUB_SECRET: secrets.githubSecret }),
  });
  const client = scriptedClient();
  for (const [n, t] of config.targets.entries()) client.digests.set(t.image, sha(100 + n));
  const log = memoryLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const store = createFileStore({ file: config.stateFile, logger: log.logger });
  const adminClient = createAdminClient({ baseUrl: admin.url, token: ADMIN_TOKEN });
  const built = await buildApp(config, {
    registry: client,
    hosts: adminHosts(new Map([['default', adminClient]])),
    store,
    logger: log.logger,
    metrics,
    ...(options.coalesceMs === undefined ? {} : { hookCoalesceMs: options.coalesceMs }),
  });
  closers.push(() => adminClient.close());
  closers.push(() => built.drain(AbortSignal.timeout(100)));
  closers.push(() => built.http.close());
  await built.open();
  await built.rollouts.activate();
  // Seed: the first tick records both digests (the fake admin-api reports no local images).
  await built.watcher.tick();
  client.state.calls = 0;
  return {
    app: built.http,
    client,
    watcher: built.watcher,
    hooks: built.hooks,
    metrics,
    log,
    settled: async () => {
      await hooksSettled(metrics);
      await rolloutsSettled(store);
    },
  };
}

/**
 * Registers the per-test fixtures (a temp dir, the fake admin-api, teardown of everything
 * `setup` builds) in the calling test file and returns `setup` and the current fake admin-api.
 */
export function useHookHarness(): {
  setup: typeof setupFn;
  readonly admin: FakeAdminApi;
} {
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    admin = await startFakeAdminApi({ token: ADMIN_TOKEN });
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await admin.close();
    await cleanup();
  });
  return {
    setup: setupFn,
    get admin() {
      return admin;
    },
  };
}

export function postEnvelope(app: FastifyInstance, body: string, authorization?: string) {
  return app.inject({
    method: 'POST',
    url: '/hooks/registry',
    headers: {
      'content-type': DISTRIBUTION_CONTENT_TYPE,
      ...(authorization === undefined ? {} : { authorization }),
    },
    payload: body,
  });
}

export function postGitHub(
  app: FastifyInstance,
  body: string,
  /** `null`: no signature header at all. */
  signature: string | null = signGitHubPayload(body, GITHUB_SECRET),
  event = 'package',
) {
  return app.inject({
    method: 'POST',
    url: '/hooks/registry',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
    },
    payload: body,
  });
}

export const pushLatest = (digest?: string) =>
  distributionEnvelope(
    distributionEvent({
      repository: REPO,
      tag: 'latest',
      host: HOST,
      ...(digest === undefined ? {} : { digest }),
    }),
  );

export async function hookMetric(
  metrics: Metrics,
  source: string,
  outcome: string,
): Promise<number> {
  const values = (await metrics.hookEvents.get()).values;
  return values.find((v) => v.labels.source === source && v.labels.outcome === outcome)?.value ?? 0;
}
