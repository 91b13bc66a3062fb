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
import { createAdminClient } from '../src/admin-client.js';
import type { WatchTarget } from '../src/config.js';
import { signGitHubPayload } from '../src/hook-auth.js';
import { createHookDispatcher, type HookDispatcher } from '../src/hook-dispatcher.js';
import { createHookMatcher } from '../src/hook-events.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { buildServer } from '../src/server.js';
import { createStateStore } from '../src/state-store.js';
import { createWatcher, type Watcher } from '../src/watcher.js';
import { type FakeAdminApi, startFakeAdminApi } from './fake-admin-api.js';
import { memoryLogger, sha, tempDir } from './helpers.js';
import {
  DISTRIBUTION_CONTENT_TYPE,
  distributionEnvelope,
  distributionEvent,
} from './hook-payloads.js';

export const ADMIN_TOKEN = 'admin-token-never-logged';
export const HOOK_TOKEN = 'hook-t0ken-never-logged';
export const GITHUB_SECRET = 'gh-s3cret-never-logged';
export const HOST = 'registry.example.com:5000';
export const REPO = 'molecule-ai/workspace-template-langgraph';
export const targets: WatchTarget[] = ['codex', 'langgraph'].map((runtime) => ({
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
}

async function setupFn(
  secrets: { hookToken?: string; githubSecret?: string; registryHost?: string } = {
    hookToken: HOOK_TOKEN,
    githubSecret: GITHUB_SECRET,
  },
  options: { coalesceMs?: number; bodyLimit?: number } = {},
): Promise<Harness> {
  const registryHost = secrets.registryHost ?? HOST;
  const watched: WatchTarget[] = targets.map((t) => ({
    runtime: t.runtime,
    image: t.image.replace(HOST, registryHost),
  }));
  const client = scriptedClient();
  for (const [n, t] of watched.entries()) client.digests.set(t.image, sha(100 + n));
  const log = memoryLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const store = createStateStore({ file: join(dir, 'state.json'), logger: log.logger });
  await store.load();
  const adminClient = createAdminClient({ baseUrl: admin.url, token: ADMIN_TOKEN });
  const watcher = createWatcher({
    client,
    admin: adminClient,
    store,
    config: {
      intervalMs: 3_600_000,
      autoRefresh: true,
      concurrency: 4,
      adminToken: ADMIN_TOKEN,
      targets: watched,
    },
    logger: log.logger,
    metrics,
  });
  const hooks = createHookDispatcher({
    watcher,
    logger: log.logger,
    ...(options.coalesceMs === undefined ? {} : { coalesceMs: options.coalesceMs }),
  });
  const app = buildServer({
    watcher,
    metrics,
    hooks: {
      hookToken: secrets.hookToken,
      githubSecret: secrets.githubSecret,
      matcher: createHookMatcher({
        registryHost,
        registryPrefix: `${registryHost}/molecule-ai`,
        targets: watched,
      }),
      dispatcher: hooks,
      metrics,
      logger: log.logger,
      ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    },
  });
  closers.push(() => adminClient.close());
  closers.push(() => watcher.stop({ graceMs: 100 }));
  closers.push(() => app.close());
  closers.push(async () => hooks.close());
  // Seed: the first tick records both digests (the fake admin-api reports no local images).
  await watcher.tick();
  client.state.calls = 0;
  return { app, client, watcher, hooks, metrics, log };
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
