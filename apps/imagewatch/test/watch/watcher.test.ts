/**
 * The watch loop against a scripted registry client and the fake admin-api: decisions are
 * acted on, refresh is called with the right runtime and token, failures retry, ticks never
 * overlap, rate limits back off, auth errors are logged once per change of state.
 */
import { join } from 'node:path';
import type { ManifestDigest } from '@molecule/registry-client';
import { RegistryError } from '@molecule/registry-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminClient } from '../../src/admin-client/client.js';
import type { WatchTarget } from '../../src/config.js';
import { createMetrics } from '../../src/metrics.js';
import { createStateStore } from '../../src/watch/state-store.js';
import { createWatcher, type WatcherDeps } from '../../src/watch/watcher.js';
import { type FakeAdminApi, startFakeAdminApi } from '../fake-admin-api.js';
import { memoryLogger, sha, tempDir, waitFor } from '../helpers.js';

const TOKEN = 'admin-token-never-logged';
const targets: WatchTarget[] = (['codex', 'langgraph', 'openclaw'] as const).map((runtime) => ({
  runtime,
  image: `127.0.0.1:5000/acme/workspace-template-${runtime}:latest`,
}));

/** A registry client whose answers the test scripts. */
function scriptedClient() {
  const digests = new Map<string, string>();
  const errors = new Map<string, RegistryError[]>();
  const state = {
    calls: 0,
    inFlight: 0,
    maxInFlight: 0,
    delayMs: 0,
    spans: [] as Array<[number, number]>,
  };
  return {
    digests,
    state,
    failNext(image: string, error: RegistryError, times = 1) {
      errors.set(
        image,
        Array.from({ length: times }, () => error),
      );
    },
    async getManifestDigest(
      ref: string,
      options?: { signal?: AbortSignal },
    ): Promise<ManifestDigest> {
      state.calls += 1;
      state.inFlight += 1;
      const span: [number, number] = [Date.now(), Number.POSITIVE_INFINITY];
      state.spans.push(span);
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        if (state.delayMs > 0) {
          await new Promise((resolve, reject) => {
            const t = setTimeout(resolve, state.delayMs);
            options?.signal?.addEventListener('abort', () => {
              clearTimeout(t);
              reject(new RegistryError({ code: 'TIMEOUT', hint: 'aborted' }));
            });
          });
        }
        const queued = errors.get(ref)?.shift();
        if (queued) throw queued;
        const digest = digests.get(ref);
        if (!digest)
          throw new RegistryError({ code: 'NOT_FOUND', hint: 'no such tag', status: 404 });
        return { digest, mediaType: 'application/vnd.oci.image.index.v1+json' };
      } finally {
        span[1] = Date.now();
        state.inFlight -= 1;
      }
    },
  };
}

let dir: string;
let cleanup: () => Promise<void>;
let admin: FakeAdminApi;
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  admin = await startFakeAdminApi({ token: TOKEN });
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await admin.close();
  await cleanup();
});

async function setup(
  overrides: Partial<WatcherDeps['config']> & {
    token?: string | undefined;
    now?: () => number;
  } = {},
) {
  const client = scriptedClient();
  for (const [n, t] of targets.entries()) client.digests.set(t.image, sha(100 + n));
  const log = memoryLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const file = join(dir, 'state.json');
  const store = createStateStore({ file, logger: log.logger });
  await store.load();
  const token = 'token' in overrides ? overrides.token : TOKEN;
  const adminClient = createAdminClient({ baseUrl: admin.url, token });
  closers.push(() => adminClient.close());
  const { now, ...configOverrides } = overrides;
  const config = {
    intervalMs: 60_000,
    autoRefresh: true,
    concurrency: 4,
    adminToken: token,
    targets,
    ...configOverrides,
  };
  const watcher = createWatcher({
    client,
    admin: adminClient,
    store,
    config,
    logger: log.logger,
    metrics,
    ...(now ? { now } : {}),
  });
  closers.push(() => watcher.stop({ signal: AbortSignal.timeout(100) }));
  return { client, log, metrics, store, watcher, file };
}

async function metric(
  metrics: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string>,
) {
  const values = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return (
    values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0
  );
}

describe('watcher', () => {
  it('seeds on first sight, then refreshes exactly the moved runtime with the admin token', async () => {
    const { client, watcher, store, metrics, log } = await setup();
    const first = await watcher.tick();
    expect(first.succeeded).toBe(true);
    expect(first.results.map((r) => r.outcome)).toEqual(['seeded', 'seeded', 'seeded']);
    expect(admin.refreshes).toEqual([]);
    expect(store.get(targets[1]!.image)?.digest).toBe(sha(101));

    client.digests.set(targets[1]!.image, sha(999));
    const second = await watcher.tick();
    expect(second.results.map((r) => r.outcome)).toEqual(['unchanged', 'changed', 'unchanged']);
    expect(admin.refreshes).toHaveLength(1);
    expect(admin.refreshes[0]).toMatchObject({
      runtime: 'langgraph',
      recreate: 'true',
      authorized: true,
    });
    expect(store.get(targets[1]!.image)?.digest).toBe(sha(999));
    expect(
      await metric(metrics, 'imagewatch_refreshes_total', {
        runtime: 'langgraph',
        outcome: 'success',
      }),
    ).toBe(1);
    expect(await metric(metrics, 'imagewatch_digest_changes_total', { runtime: 'langgraph' })).toBe(
      1,
    );

    const changed = log
      .lines()
      .find((line) => line.msg === 'digest changed: asking admin-api to refresh');
    expect(changed).toMatchObject({
      runtime: 'langgraph',
      old: 'sha256:006500650065',
      new: 'sha256:03e703e703e7',
    });
    expect(changed?.image).toBe(targets[1]!.image);
    expect(log.text()).not.toContain(TOKEN);

    await watcher.tick();
    expect(admin.refreshes).toHaveLength(1);
  });

  it('keeps the old digest when the refresh fails and retries on the next tick', async () => {
    const { client, watcher, store, metrics } = await setup();
    await watcher.tick();
    client.digests.set(targets[0]!.image, sha(555));
    admin.failRefresh({ times: 1, status: 500 });
    const failed = await watcher.tick();
    expect(failed.results[0]).toMatchObject({ outcome: 'changed', refreshed: false });
    expect(store.get(targets[0]!.image)?.digest).toBe(sha(100));

    admin.failRefresh({ times: 1, asFailedPull: true });
    await watcher.tick();
    expect(store.get(targets[0]!.image)?.digest).toBe(sha(100));

    const retried = await watcher.tick();
    expect(retried.results[0]).toMatchObject({ outcome: 'changed', refreshed: true });
    expect(store.get(targets[0]!.image)?.digest).toBe(sha(555));
    expect(admin.refreshes.map((c) => c.runtime)).toEqual(['codex', 'codex', 'codex']);
    expect(
      await metric(metrics, 'imagewatch_refreshes_total', { runtime: 'codex', outcome: 'failure' }),
    ).toBe(2);
    // The change is counted once, not once per retry.
    expect(await metric(metrics, 'imagewatch_digest_changes_total', { runtime: 'codex' })).toBe(1);
  });

  it('isolates a failing runtime: the others are still checked and refreshed', async () => {
    const { client, watcher, store } = await setup();
    await watcher.tick();
    client.failNext(
      targets[0]!.image,
      new RegistryError({ code: 'NETWORK', hint: 'reset', host: '127.0.0.1:5000' }),
    );
    client.digests.set(targets[2]!.image, sha(777));
    const report = await watcher.tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['error', 'unchanged', 'changed']);
    expect(report.succeeded).toBe(true);
    expect(store.get(targets[0]!.image)?.digest).toBe(sha(100));
    expect(store.get(targets[2]!.image)?.digest).toBe(sha(777));
  });

  it('refreshes on first sight when the host runs a different digest; seeds when it runs the same', async () => {
    admin.setLocal('codex', targets[0]!.image, { id: 'sha256:img', digest: sha(1) });
    admin.setLocal('langgraph', targets[1]!.image, { id: 'sha256:img2', digest: sha(101) });
    admin.setLocal('openclaw', targets[2]!.image, null);
    const { watcher, store } = await setup();
    const report = await watcher.tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['changed', 'seeded', 'seeded']);
    expect(admin.refreshes.map((c) => c.runtime)).toEqual(['codex']);
    expect(admin.calls.filter((c) => c.method === 'GET')).toHaveLength(1);
    expect(store.get(targets[0]!.image)?.digest).toBe(sha(100));
  });

  it('monitor-only: reports a move once, advances the seen digest, changes nothing', async () => {
    const { client, watcher, store, log } = await setup({ autoRefresh: false, token: undefined });
    await watcher.tick();
    client.digests.set(targets[1]!.image, sha(4242));
    await watcher.tick();
    await watcher.tick();
    expect(admin.calls).toEqual([]);
    expect(store.get(targets[1]!.image)?.digest).toBe(sha(4242));
    expect(
      log.lines().filter((l) => String(l.msg).startsWith('digest changed (monitor-only')),
    ).toHaveLength(1);
  });

  it('never overlaps ticks: a second request joins the running tick', async () => {
    const { client, watcher } = await setup({ intervalMs: 1_000, concurrency: 2 });
    client.state.delayMs = 300; // 3 references, 2 at a time: a tick takes ~600 ms
    const a = watcher.tick();
    const b = watcher.tick();
    expect(b).toBe(a);
    expect(watcher.health().ticking).toBe(true);
    await a;
    expect(watcher.health().ticking).toBe(false);
    expect(client.state.calls).toBe(3);
    expect(client.state.maxInFlight).toBe(2);
  });

  it('the loop waits for a tick slower than the interval before starting the next', async () => {
    const { client, watcher } = await setup({ intervalMs: 1_000, concurrency: 3 });
    client.state.delayMs = 1_300;
    watcher.start();
    await waitFor(() => client.state.calls >= 6, 8_000);
    await watcher.stop({ signal: AbortSignal.timeout(5_000) });
    const spans = [...client.state.spans].sort((x, y) => x[0] - y[0]);
    const first = spans.slice(0, 3);
    const second = spans.slice(3, 6);
    // Every check of the second tick started after every check of the first one ended.
    expect(Math.min(...second.map((s) => s[0]))).toBeGreaterThanOrEqual(
      Math.max(...first.map((s) => s[1])),
    );
    expect(client.state.maxInFlight).toBe(3);
  });

  it('backs off until Retry-After on RATE_LIMITED, then checks again', async () => {
    let clock = 1_000_000;
    const { client, watcher, metrics } = await setup({ now: () => clock, concurrency: 1 });
    await watcher.tick();
    expect(client.state.calls).toBe(3);
    client.failNext(
      targets[0]!.image,
      new RegistryError({
        code: 'RATE_LIMITED',
        hint: 'slow down',
        status: 429,
        retryAfterMs: 120_000,
      }),
    );
    // concurrency 1: codex is first, its 429 stops the other two checks on the same host.
    const limited = await watcher.tick();
    expect(limited.results.map((r) => r.outcome)).toEqual(['error', 'backoff', 'backoff']);
    expect(client.state.calls).toBe(4);
    clock += 119_000;
    const skipped = await watcher.tick();
    expect(skipped.results.map((r) => r.outcome)).toEqual(['backoff', 'backoff', 'backoff']);
    expect(client.state.calls).toBe(4);
    expect(
      await metric(metrics, 'imagewatch_checks_total', { runtime: 'codex', outcome: 'backoff' }),
    ).toBe(1);
    clock += 1_001;
    const resumed = await watcher.tick();
    expect(resumed.results.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(client.state.calls).toBe(7);
  });

  it('logs an auth failure once per change of state, with the fix', async () => {
    const { client, watcher, log } = await setup();
    const unauthorized = () =>
      new RegistryError({
        code: 'UNAUTHORIZED',
        hint: 'denied',
        status: 401,
        host: '127.0.0.1:5000',
      });
    client.failNext(targets[0]!.image, unauthorized(), 3);
    await watcher.tick();
    await watcher.tick();
    await watcher.tick();
    const authLines = () => log.lines().filter((l) => l.msg === 'registry refused our credentials');
    expect(authLines()).toHaveLength(1);
    expect(String(authLines()[0]!.fix)).toContain('MOLECULE_REGISTRY_USERNAME');
    await watcher.tick();
    expect(log.lines().filter((l) => l.msg === 'digest check works again')).toHaveLength(1);
    client.failNext(targets[0]!.image, unauthorized(), 1);
    await watcher.tick();
    expect(authLines()).toHaveLength(2);
  });

  it('checkNow coalesces: one running, at most one queued, never two at once for a runtime', async () => {
    const { client, watcher } = await setup();
    await watcher.tick();
    client.state.calls = 0;
    client.state.delayMs = 100;
    const results = await Promise.all([
      watcher.checkNow('codex'),
      watcher.checkNow('codex'),
      watcher.checkNow('codex'),
      watcher.checkNow('codex'),
    ]);
    expect(results.every((r) => r.length === 1 && r[0]!.runtime === 'codex')).toBe(true);
    expect(client.state.calls).toBe(2);
    expect(client.state.maxInFlight).toBe(1);
    expect(await watcher.checkNow('autogen')).toEqual([]);
  });

  it('state survives a restart: no re-seed, a move made while down is refreshed', async () => {
    const first = await setup();
    await first.watcher.tick();
    await first.watcher.stop();
    const second = await setup();
    second.client.digests.set(targets[2]!.image, sha(31337));
    const report = await second.watcher.tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'changed']);
    expect(admin.refreshes.map((c) => c.runtime)).toEqual(['openclaw']);
  });

  it('health turns unhealthy when no tick succeeded for three intervals', async () => {
    let clock = 0;
    const client = scriptedClient();
    const log = memoryLogger();
    const store = createStateStore({ file: join(dir, 's.json'), logger: log.logger });
    const watcher = createWatcher({
      client,
      admin: createAdminClient({ baseUrl: admin.url, token: TOKEN }),
      store,
      config: {
        intervalMs: 1_000,
        autoRefresh: false,
        concurrency: 1,
        adminToken: undefined,
        targets,
      },
      logger: log.logger,
      metrics: createMetrics({ defaultMetrics: false }),
      now: () => clock,
    });
    expect(watcher.health().healthy).toBe(true);
    // Every reference fails (the client knows no digests).
    const report = await watcher.tick();
    expect(report.succeeded).toBe(false);
    clock = 3_000;
    expect(watcher.health().healthy).toBe(true);
    clock = 3_001;
    expect(watcher.health().healthy).toBe(false);
    for (const t of targets) client.digests.set(t.image, sha(1));
    expect((await watcher.tick()).succeeded).toBe(true);
    expect(watcher.health().healthy).toBe(true);
    await watcher.stop();
  });
});
