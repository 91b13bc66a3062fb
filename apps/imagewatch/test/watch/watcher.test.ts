/**
 * The watch loop (with the real rollout engine and state file) against a scripted registry
 * client and the fake admin-api: decisions are acted on, a rollout calls refresh with the right
 * runtime, digest, epoch and token, failures retry, ticks never overlap and never wait on one
 * hung check, rate limits back off, auth errors are logged once per change of state.
 */
import { join } from 'node:path';
import type { ManifestDigest } from '@molecule/registry-client';
import { RegistryError } from '@molecule/registry-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminClient } from '../../src/admin-client/client.js';
import type { WatchTarget } from '../../src/config.js';
import { createMetrics } from '../../src/metrics.js';
import { createRolloutEngine } from '../../src/rollouts/engine.js';
import { adminHosts } from '../../src/rollouts/hosts.js';
import { createFileStore } from '../../src/store/file-store.js';
import type { WatchStore } from '../../src/store/watch-store.js';
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
    spans: [] as Array<[number, number, string]>,
  };
  /** Per-reference delays (a hung registry request for one reference). */
  const delays = new Map<string, number>();
  return {
    digests,
    state,
    delays,
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
      const span: [number, number, string] = [Date.now(), Number.POSITIVE_INFINITY, ref];
      state.spans.push(span);
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        const delay = delays.get(ref) ?? state.delayMs;
        if (delay > 0) {
          await new Promise((resolve, reject) => {
            const t = setTimeout(resolve, delay);
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
    retries?: number;
  } = {},
) {
  const client = scriptedClient();
  for (const [n, t] of targets.entries()) client.digests.set(t.image, sha(100 + n));
  const log = memoryLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const file = join(dir, 'state.json');
  const store = createFileStore({ file, logger: log.logger });
  await store.open();
  const token = 'token' in overrides ? overrides.token : TOKEN;
  const adminClient = createAdminClient({ baseUrl: admin.url, token });
  closers.push(() => adminClient.close());
  const { now, retries = 3, ...configOverrides } = overrides;
  const config = {
    intervalMs: 60_000,
    autoRefresh: true,
    concurrency: 4,
    adminToken: token,
    targets,
    ...configOverrides,
  };
  const hosts = adminHosts(new Map([['default', adminClient]]));
  const rollouts = createRolloutEngine({
    store,
    hosts,
    settings: { waves: [['default']], soakMs: 0, retries },
    logger: log.logger,
    metrics,
    backoffMs: 20,
  });
  await rollouts.activate();
  closers.push(() => rollouts.deactivate());
  const watcher = createWatcher({
    client,
    hosts,
    store,
    rollouts,
    config,
    logger: log.logger,
    metrics,
    ...(now ? { now } : {}),
  });
  closers.push(() => watcher.stop({ signal: AbortSignal.timeout(100) }));
  return { client, log, metrics, store, watcher, file, rollouts };
}

/** Waits until no rollout is running (done, halted or otherwise settled). */
async function rolloutsSettled(store: WatchStore, timeoutMs = 5_000) {
  await waitFor(
    async () => (await store.activeRollouts()).every((r) => r.state !== 'running'),
    timeoutMs,
  );
}

const seen = async (store: WatchStore, image: string) => (await store.seenDigest(image))?.digest;

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
  it('seeds on first sight, then rolls out exactly the moved runtime: by digest, with the epoch and the admin token', async () => {
    const { client, watcher, store, metrics, log } = await setup();
    const first = await watcher.tick();
    expect(first.succeeded).toBe(true);
    expect(first.results.map((r) => r.outcome)).toEqual(['seeded', 'seeded', 'seeded']);
    expect(admin.refreshes).toEqual([]);
    expect(await seen(store, targets[1]!.image)).toBe(sha(101));

    client.digests.set(targets[1]!.image, sha(999));
    const second = await watcher.tick();
    expect(second.results.map((r) => r.outcome)).toEqual(['unchanged', 'changed', 'unchanged']);
    expect(second.results[1]!.rollout).toMatch(/^r-langgraph-03e703e703e7-/);
    // Recorded with the rollout: the next tick does not start another one.
    expect(await seen(store, targets[1]!.image)).toBe(sha(999));
    await rolloutsSettled(store);
    expect(admin.refreshes).toHaveLength(1);
    expect(admin.refreshes[0]).toMatchObject({
      runtime: 'langgraph',
      recreate: 'true',
      digest: sha(999),
      epoch: 1,
      authorized: true,
    });
    const rollout = await store.getRollout(second.results[1]!.rollout!);
    expect(rollout).toMatchObject({ state: 'done', from: sha(101), to: sha(999) });
    expect(rollout?.hosts).toEqual([
      expect.objectContaining({ name: 'default', state: 'done', attempts: 1 }),
    ]);
    expect(
      await metric(metrics, 'imagewatch_refreshes_total', {
        runtime: 'langgraph',
        outcome: 'success',
      }),
    ).toBe(1);
    expect(await metric(metrics, 'imagewatch_digest_changes_total', { runtime: 'langgraph' })).toBe(
      1,
    );

    const changed = log.lines().find((line) => line.msg === 'digest changed: rolling it out');
    expect(changed).toMatchObject({
      runtime: 'langgraph',
      old: 'sha256:006500650065',
      new: 'sha256:03e703e703e7',
    });
    expect(changed?.image).toBe(targets[1]!.image);
    expect(log.text()).not.toContain(TOKEN);

    await watcher.tick();
    await rolloutsSettled(store);
    expect(admin.refreshes).toHaveLength(1);
  });

  it('retries a failed host refresh with backoff inside the rollout; the change is counted once', async () => {
    const { client, watcher, store, metrics } = await setup();
    await watcher.tick();
    client.digests.set(targets[0]!.image, sha(555));
    admin.failRefresh({ times: 1, status: 500 });
    const changed = await watcher.tick();
    expect(changed.results[0]).toMatchObject({ outcome: 'changed' });
    await waitFor(() => admin.refreshes.length >= 1);
    admin.failRefresh({ times: 1, asFailedPull: true });
    await rolloutsSettled(store);
    const rollout = await store.getRollout(changed.results[0]!.rollout!);
    expect(rollout).toMatchObject({ state: 'done' });
    expect(rollout?.hosts[0]).toMatchObject({ state: 'done', attempts: 3 });
    expect(admin.refreshes.map((c) => c.runtime)).toEqual(['codex', 'codex', 'codex']);
    expect(
      await metric(metrics, 'imagewatch_refreshes_total', { runtime: 'codex', outcome: 'failure' }),
    ).toBe(2);
    expect(await metric(metrics, 'imagewatch_digest_changes_total', { runtime: 'codex' })).toBe(1);
    // A retry first asks whether the host already has the digest (a timed-out call may have done it).
    expect(admin.calls.filter((c) => c.method === 'GET').length).toBeGreaterThanOrEqual(2);
  });

  it('a host that keeps failing halts the rollout after its retries; ticks do not start it again', async () => {
    const { client, watcher, store, metrics } = await setup({ retries: 1 });
    await watcher.tick();
    client.digests.set(targets[0]!.image, sha(556));
    admin.failRefresh({ times: 10, status: 500 });
    const changed = await watcher.tick();
    await rolloutsSettled(store);
    const rollout = await store.getRollout(changed.results[0]!.rollout!);
    expect(rollout).toMatchObject({ state: 'halted' });
    expect(rollout?.hosts[0]).toMatchObject({ state: 'failed', attempts: 2 });
    expect(rollout?.hosts[0]?.error).toContain('500');
    // The store shows the halt as soon as it is committed; the metric follows the write.
    await waitFor(
      async () =>
        (await metric(metrics, 'imagewatch_rollouts_halted_total', { runtime: 'codex' })) === 1,
    );
    await watcher.tick();
    await watcher.tick();
    expect(admin.refreshes).toHaveLength(2);
    expect((await store.listRollouts()).filter((r) => r.runtime === 'codex')).toHaveLength(1);
  });

  it('isolates a failing runtime: the others are still checked and rolled out', async () => {
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
    expect(await seen(store, targets[0]!.image)).toBe(sha(100));
    expect(await seen(store, targets[2]!.image)).toBe(sha(777));
  });

  it('rolls out on first sight when the host runs a different digest; seeds when it runs the same', async () => {
    admin.setLocal('codex', targets[0]!.image, { id: 'sha256:img', digest: sha(1) });
    admin.setLocal('langgraph', targets[1]!.image, { id: 'sha256:img2', digest: sha(101) });
    admin.setLocal('openclaw', targets[2]!.image, null);
    const { watcher, store } = await setup();
    const report = await watcher.tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['changed', 'seeded', 'seeded']);
    await rolloutsSettled(store);
    expect(admin.refreshes.map((c) => [c.runtime, c.digest])).toEqual([['codex', sha(100)]]);
    expect(await seen(store, targets[0]!.image)).toBe(sha(100));
    const [rollout] = await store.listRollouts();
    expect(rollout).toMatchObject({ from: sha(1), to: sha(100), state: 'done' });
  });

  it('monitor-only: reports a move once, advances the seen digest, changes nothing', async () => {
    const { client, watcher, store, log } = await setup({ autoRefresh: false, token: undefined });
    await watcher.tick();
    client.digests.set(targets[1]!.image, sha(4242));
    await watcher.tick();
    await watcher.tick();
    expect(admin.calls).toEqual([]);
    expect(await seen(store, targets[1]!.image)).toBe(sha(4242));
    expect(await store.listRollouts()).toEqual([]);
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

  it('a hung check delays only its own reference: ticks stay on time, skip it while it runs, and never overlap', async () => {
    const { client, watcher } = await setup({ intervalMs: 1_000, concurrency: 3 });
    client.delays.set(targets[0]!.image, 2_500);
    watcher.start();
    await waitFor(
      () => client.state.spans.filter((s) => s[2] === targets[1]!.image).length >= 3,
      6_000,
    );
    await watcher.stop({ signal: AbortSignal.timeout(5_000) });
    const of = (image: string) => client.state.spans.filter((s) => s[2] === image);
    // The hung reference was checked once, and never twice at once.
    const hung = of(targets[0]!.image);
    expect(hung.length).toBeLessThanOrEqual(2);
    if (hung.length === 2) expect(hung[1]![0]).toBeGreaterThanOrEqual(hung[0]![1]);
    // The others were checked every interval meanwhile (not every 2.5 s).
    const other = of(targets[1]!.image);
    // Two intervals (+10% jitter) and a loaded machine's slack, well short of the hung 2.5 s twice.
    expect(other[2]![0] - other[0]![0]).toBeLessThan(2 * 1_000 * 1.1 + 1_500);
  });

  it('a tick reports a check that outlasts it as slow, and the next one as busy', async () => {
    const { client, watcher } = await setup({ intervalMs: 1_000, concurrency: 3 });
    client.delays.set(targets[0]!.image, 1_800);
    const first = await watcher.tick();
    expect(first.slow).toEqual([targets[0]!.image]);
    expect(first.results.map((r) => r.image).sort()).toEqual(
      [targets[1]!.image, targets[2]!.image].sort(),
    );
    const second = await watcher.tick();
    expect(second.busy).toEqual([targets[0]!.image]);
    // The tick ends at its interval, not with the 1.8 s check.
    expect(first.durationMs).toBeLessThan(1_750);
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

  it('state survives a restart: no re-seed, a move made while down is rolled out', async () => {
    const first = await setup();
    await first.watcher.tick();
    await first.watcher.stop();
    const second = await setup();
    second.client.digests.set(targets[2]!.image, sha(31337));
    const report = await second.watcher.tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'changed']);
    await rolloutsSettled(second.store);
    expect(admin.refreshes.map((c) => c.runtime)).toEqual(['openclaw']);
    // The second process acts under a newer epoch.
    expect(admin.refreshes[0]!.epoch).toBe(2);
  });

  it('health turns unhealthy when no tick succeeded for three intervals', async () => {
    let clock = 0;
    const client = scriptedClient();
    const log = memoryLogger();
    const store = createFileStore({ file: join(dir, 's.json'), logger: log.logger });
    await store.open();
    const adminClient = createAdminClient({ baseUrl: admin.url, token: TOKEN });
    closers.push(() => adminClient.close());
    const watcher = createWatcher({
      client,
      hosts: adminHosts(new Map([['default', adminClient]])),
      store,
      rollouts: {
        begin: async () => {
          throw new Error('monitor-only: no rollouts');
        },
      },
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
