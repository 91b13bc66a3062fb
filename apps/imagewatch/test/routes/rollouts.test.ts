/**
 * `/rollouts` on the app as `imagewatch run` builds it (two fake admin-api hosts, the state
 * file, a scripted registry): auth, list filters, one rollout, actions and their 409s.
 */
import { join } from 'node:path';
import type { ManifestDigest } from '@molecule/registry-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminClient } from '../../src/admin-client/client.js';
import { buildApp, type ImagewatchApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createMetrics } from '../../src/metrics.js';
import { adminHosts } from '../../src/rollouts/hosts.js';
import { createFileStore } from '../../src/store/file-store.js';
import { type FakeAdminApi, startFakeAdminApi } from '../fake-admin-api.js';
import { memoryLogger, rolloutsSettled, sha, tempDir } from '../helpers.js';

const TOKEN = 'rollouts-api-token';
const PREFIX = 'registry.example.com/acme';
let dir: string;
let cleanup: () => Promise<void>;
let a: FakeAdminApi;
let b: FakeAdminApi;
let app: ImagewatchApp;
const digests = new Map<string, string>();
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  a = await startFakeAdminApi({ token: TOKEN, prefix: PREFIX });
  b = await startFakeAdminApi({ token: TOKEN, prefix: PREFIX });
  const config = loadConfig({
    MOLECULE_IMAGE_REGISTRY: PREFIX,
    IMAGE_WATCH_RUNTIMES: 'codex,hermes',
    IMAGE_AUTO_REFRESH: 'true',
    MOLECULE_ADMIN_TOKEN: TOKEN,
    IMAGE_WATCH_HOSTS: `a=${a.url},b=${b.url}`,
    IMAGE_WATCH_ROLLOUT_WAVES: '1,100%',
    IMAGE_WATCH_ROLLOUT_RETRIES: '0',
    IMAGE_WATCH_STATE_FILE: join(dir, 'state.json'),
    IMAGE_WATCH_INTERVAL: '1h',
    DOCKER_CONFIG: dir,
  });
  const log = memoryLogger();
  const clients = new Map(
    config.hosts.map((host) => [host.name, createAdminClient({ baseUrl: host.url, token: TOKEN })]),
  );
  for (const [n, target] of config.targets.entries()) digests.set(target.image, sha(100 + n));
  app = await buildApp(config, {
    registry: {
      async getManifestDigest(ref: string): Promise<ManifestDigest> {
        return { digest: digests.get(ref)!, mediaType: 'application/vnd.oci.image.index.v1+json' };
      },
    },
    hosts: adminHosts(clients),
    store: createFileStore({ file: config.stateFile, logger: log.logger }),
    logger: log.logger,
    metrics: createMetrics({ defaultMetrics: false }),
    rolloutBackoffMs: 10,
  });
  await app.open();
  await app.rollouts.activate();
  closers.push(async () => {
    await app.drain(AbortSignal.timeout(100));
    await app.http.close();
    for (const client of clients.values()) await client.close();
  });
  await app.watcher.tick();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await a.close();
  await b.close();
  await cleanup();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const get = (url: string, headers: Record<string, string> = auth) =>
  app.http.inject({ method: 'GET', url, headers });
const post = (url: string) => app.http.inject({ method: 'POST', url, headers: auth });

async function moveCodex(digest: string) {
  digests.set(`${PREFIX}/workspace-template-codex:latest`, digest);
  const report = await app.watcher.tick();
  await rolloutsSettled(createFileStoreView());
  return report.results.find((r) => r.runtime === 'codex')!.rollout!;
}
function createFileStoreView() {
  return {
    activeRollouts: async () => (await get('/rollouts')).json() as Array<{ state: string }>,
  };
}

describe('/rollouts', () => {
  it('needs the admin token: 401 with a code, before anything else', async () => {
    for (const url of ['/rollouts', '/rollouts/x', '/rollouts?state=nope']) {
      const response = await get(url, {});
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: 'unauthorized', code: 'UNAUTHORIZED' });
    }
    expect((await app.http.inject({ method: 'POST', url: '/rollouts/x/abort' })).statusCode).toBe(
      401,
    );
  });

  it('lists rollouts newest first with filters, and shows one in the contract shape', async () => {
    const first = await moveCodex(sha(201));
    const second = await moveCodex(sha(202));
    const list = (await get('/rollouts')).json();
    expect(list.map((r: { id: string }) => r.id)).toEqual([second, first]);
    expect((await get('/rollouts?runtime=hermes')).json()).toEqual([]);
    expect((await get('/rollouts?state=done&limit=1')).json()).toHaveLength(1);
    const one = (await get(`/rollouts/${second}`)).json();
    expect(one).toMatchObject({
      id: second,
      runtime: 'codex',
      reference: `${PREFIX}/workspace-template-codex:latest`,
      from: sha(201),
      to: sha(202),
      state: 'done',
      waves: [['a'], ['b']],
    });
    expect(one.hosts).toEqual([
      { name: 'a', state: 'done', attempts: 1, updated_at: expect.any(String) },
      { name: 'b', state: 'done', attempts: 1, updated_at: expect.any(String) },
    ]);
    expect(typeof one.created_at).toBe('string');
    expect(typeof one.updated_at).toBe('string');
  });

  it.each([
    ['/rollouts?state=exploded', 'unknown state'],
    ['/rollouts?runtime=cobol', 'unknown runtime'],
    ['/rollouts?limit=0', 'limit'],
    ['/rollouts?limit=abc', 'limit'],
  ])('%s → 400 naming the problem', async (url, problem) => {
    const response = await get(url);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'BAD_REQUEST',
      error: expect.stringContaining(problem),
    });
  });

  it('unknown ids and actions are 404s with a code', async () => {
    expect((await get('/rollouts/r-nope')).json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await post('/rollouts/r-nope/abort')).statusCode).toBe(404);
    const id = await moveCodex(sha(203));
    expect((await post(`/rollouts/${id}/explode`)).json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('the wrong state for an action is 409 ROLLOUT_STATE with the state; rollback answers both rollouts', async () => {
    const id = await moveCodex(sha(204));
    const resume = await post(`/rollouts/${id}/resume`);
    expect(resume.statusCode).toBe(409);
    expect(resume.json()).toEqual({
      error: 'cannot resume a rollout that is done',
      code: 'ROLLOUT_STATE',
      state: 'done',
    });
    expect((await post(`/rollouts/${id}/abort`)).json()).toMatchObject({
      code: 'ROLLOUT_STATE',
      state: 'done',
    });
    const back = await post(`/rollouts/${id}/rollback`);
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({
      id,
      state: 'rolled_back',
      rollback: { kind: 'rollback', rollback_of: id, to: sha(100), from: sha(204) },
    });
    expect((await post(`/rollouts/${id}/rollback`)).json()).toMatchObject({
      code: 'ROLLOUT_STATE',
      state: 'rolled_back',
    });
  });

  it('halted → resume over the API', async () => {
    b.failRefresh({ times: 1, status: 500 });
    const id = await moveCodex(sha(205));
    expect((await get(`/rollouts/${id}`)).json()).toMatchObject({ state: 'halted' });
    const resumed = await post(`/rollouts/${id}/resume`);
    expect(resumed.json()).toMatchObject({ state: 'running' });
    await rolloutsSettled(createFileStoreView());
    expect((await get(`/rollouts/${id}`)).json()).toMatchObject({ state: 'done' });
  });
});
