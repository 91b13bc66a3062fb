/**
 * The whole service (real registry client, state file, HTTP app) against the in-process fake
 * registry with bearer token auth and the fake admin-api.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FakeRegistry, startFakeRegistry } from '@molecule/fake-registry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type FakeAdminApi, startFakeAdminApi } from '../fake-admin-api.js';
import { memoryLogger, tempDir, waitFor } from '../helpers.js';
import { type TestService as Service, startService } from '../service.js';

const ADMIN_TOKEN = 'adm1n-t0ken-secret';
const USER = { username: 'watcher', password: 'pa55-w0rd-secret' };
const RUNTIMES = ['codex', 'langgraph'] as const;

let registry: FakeRegistry;
let admin: FakeAdminApi;
let dir: string;
let cleanup: () => Promise<void>;
const services: Service[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  registry = await startFakeRegistry({
    auth: 'bearer',
    users: [USER],
    tokenExpiresInSeconds: 3600,
  });
  admin = await startFakeAdminApi({ token: ADMIN_TOKEN });
  for (const runtime of RUNTIMES)
    registry.pushRandomImage(`molecule-ai/workspace-template-${runtime}`, 'latest');
});
afterEach(async () => {
  for (const service of services.splice(0)) await service.close({ graceMs: 100 });
  await admin.close();
  await registry.close();
  await cleanup();
});

function env(extra: Record<string, string> = {}) {
  return {
    MOLECULE_IMAGE_REGISTRY: `${registry.host}/molecule-ai`,
    MOLECULE_REGISTRY_USERNAME: USER.username,
    MOLECULE_REGISTRY_PASSWORD: USER.password,
    IMAGE_WATCH_RUNTIMES: RUNTIMES.join(','),
    IMAGE_AUTO_REFRESH: 'true',
    MOLECULE_ADMIN_TOKEN: ADMIN_TOKEN,
    MOLECULE_ADMIN_API_URL: admin.url,
    IMAGE_WATCH_STATE_FILE: join(dir, 'state.json'),
    IMAGE_WATCH_INTERVAL: '1s',
    ...extra,
  };
}

async function start(extra: Record<string, string> = {}) {
  const log = memoryLogger();
  const service = await startService(loadConfig(env(extra)), { logger: log.logger });
  services.push(service);
  return { service, log };
}

describe('imagewatch against the fake registry', () => {
  it('seeds, notices a moved digest, refreshes the right runtime with the admin token; one HEAD per runtime per steady tick', async () => {
    const { service, log } = await start();
    const first = await service.app.watcher.tick();
    expect(first.results.map((r) => r.outcome)).toEqual(['seeded', 'seeded']);
    // The registry saw our user on the token request, never anonymous manifests.
    expect(
      registry.requests.some((r) => r.kind === 'token' && r.presented.username === USER.username),
    ).toBe(true);

    registry.clearRequests();
    const steady = await service.app.watcher.tick();
    expect(steady.results.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(registry.requests.map((r) => `${r.method} ${r.kind}`)).toEqual([
      'HEAD manifest',
      'HEAD manifest',
    ]);

    const moved = registry.pushRandomImage('molecule-ai/workspace-template-langgraph', 'latest');
    const report = await service.app.watcher.tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['unchanged', 'changed']);
    await service.rolloutsSettled();
    expect(admin.refreshes).toHaveLength(1);
    expect(admin.refreshes[0]).toMatchObject({
      runtime: 'langgraph',
      recreate: 'true',
      authorized: true,
    });
    expect(
      (
        await service.store.seenDigest(
          `${registry.host}/molecule-ai/workspace-template-langgraph:latest`,
        )
      )?.digest,
    ).toBe(moved);

    const metrics = await service.metrics.registry.metrics();
    expect(metrics).toMatch(
      /imagewatch_refreshes_total\{runtime="langgraph",outcome="success"\} 1/,
    );
    expect(metrics).toMatch(
      /imagewatch_registry_requests_total\{host="[^"]+",kind="manifest",status="200"\} \d+/,
    );
    for (const secret of [ADMIN_TOKEN, USER.password]) {
      expect(log.text()).not.toContain(secret);
      expect(metrics).not.toContain(secret);
    }
  });

  it('the running loop notices a push within one interval and retries a failed refresh', async () => {
    const { service } = await start();
    await service.app.start();
    await waitFor(() => service.app.watcher.health().lastSuccessAt, 5_000);
    admin.failRefresh({ times: 1, status: 503 });
    const pushedAt = Date.now();
    registry.pushRandomImage('molecule-ai/workspace-template-codex', 'latest');
    await waitFor(() => admin.refreshes.length >= 1, 4_000);
    // Interval 1 s (±10% jitter): noticed within one interval plus the tick itself (and a
    // loaded machine's slack; the benchmarks measure the latency).
    expect(admin.refreshes[0]!.at - pushedAt).toBeLessThan(2_500);
    await waitFor(() => admin.refreshes.length >= 2, 3_000);
    expect(admin.refreshes.map((c) => c.runtime)).toEqual(['codex', 'codex']);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(admin.refreshes).toHaveLength(2);
  });

  it('state survives a restart; a corrupt state file is moved aside and rebuilt', async () => {
    const first = await start();
    await first.service.app.watcher.tick();
    await first.service.close();
    services.splice(services.indexOf(first.service), 1);
    const saved = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
    expect(Object.keys(saved.images)).toHaveLength(2);

    const second = await start();
    expect(second.service.app.stateLoad).toEqual({ kind: 'loaded', images: 2, rollouts: 0 });
    const report = await second.service.app.watcher.tick();
    expect(report.results.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
    await second.service.close();
    services.splice(services.indexOf(second.service), 1);

    await writeFile(join(dir, 'state.json'), '{"version":1,"images":');
    const third = await start();
    expect(third.service.app.stateLoad?.kind).toBe('recovered');
    const reseeded = await third.service.app.watcher.tick();
    expect(reseeded.results.map((r) => r.outcome)).toEqual(['seeded', 'seeded']);
    expect((await readdir(dir)).some((name) => name.startsWith('state.json.corrupt-'))).toBe(true);
    const digests = (file: { images: Record<string, { digest: string }> }) =>
      Object.fromEntries(Object.entries(file.images).map(([ref, seen]) => [ref, seen.digest]));
    expect(digests(JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')))).toEqual(
      digests(saved),
    );
    expect(await third.service.metrics.registry.metrics()).toMatch(
      /imagewatch_state_file_errors_total\{operation="load"\} 1/,
    );
    expect(admin.refreshes).toEqual([]);
  });

  it('serves /healthz and /metrics', async () => {
    const { service } = await start();
    await service.app.watcher.tick();
    const health = await service.app.http.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', ticking: false });
    const metrics = await service.app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('imagewatch_ticks_total{outcome="success"} 1');
    expect(metrics.body).toContain('imagewatch_checks_total{runtime="codex",outcome="seeded"} 1');
    expect(metrics.body).toContain('imagewatch_last_successful_tick_timestamp_seconds');
  });

  it('wrong registry credentials: UNAUTHORIZED per runtime, logged once with the fix, tick fails', async () => {
    const { service, log } = await start({ MOLECULE_REGISTRY_PASSWORD: 'wrong-password-x' });
    const report = await service.app.watcher.tick();
    expect(report.succeeded).toBe(false);
    expect(report.results.map((r) => r.remote)).toMatchObject([
      { kind: 'failed', code: 'UNAUTHORIZED' },
      { kind: 'failed', code: 'UNAUTHORIZED' },
    ]);
    await service.app.watcher.tick();
    const lines = log.lines().filter((l) => l.msg === 'registry refused our credentials');
    expect(lines).toHaveLength(2); // once per runtime, not once per tick
    expect(log.text()).not.toContain('wrong-password-x');
  });
});

describe('health with a state file that cannot be written', () => {
  it('is degraded (200) with the reason, and the metric counts the failures', async () => {
    const { writeFile: write } = await import('node:fs/promises');
    await write(join(dir, 'blocker'), 'x');
    const { service } = await start({ IMAGE_WATCH_STATE_FILE: join(dir, 'blocker', 'state.json') });
    await service.app.watcher.tick();
    const health = await service.app.http.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'degraded',
      state: { ok: false, reason: expect.stringContaining('blocker/state.json fails') },
    });
    expect(await service.metrics.registry.metrics()).toMatch(
      /imagewatch_state_file_errors_total\{operation="write"\} [1-9]/,
    );
  });
});
