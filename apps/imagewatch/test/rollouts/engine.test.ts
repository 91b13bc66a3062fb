/**
 * The rollout engine against three fake admin-api hosts and the real state file: waves in host
 * order, a soak between waves, retries, halting with later waves untouched, resume, abort,
 * rollback, supersede, restarts mid-wave, concurrent operator actions and a stale epoch.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminClient, createAdminClient } from '../../src/admin-client/client.js';
import type { WatchTarget } from '../../src/config.js';
import { createMetrics } from '../../src/metrics.js';
import { createRolloutEngine, type RolloutEngine } from '../../src/rollouts/engine.js';
import { adminHosts } from '../../src/rollouts/hosts.js';
import { createFileStore } from '../../src/store/file-store.js';
import type { WatchStore } from '../../src/store/watch-store.js';
import { type FakeAdminApi, startFakeAdminApi } from '../fake-admin-api.js';
import { memoryLogger, rolloutsSettled, sha, tempDir, waitFor } from '../helpers.js';

const TOKEN = 'rollout-admin-token';
const PREFIX = 'registry.example.com/acme';
const target: WatchTarget = {
  runtime: 'codex',
  image: `${PREFIX}/workspace-template-codex:latest`,
};
const NAMES = ['a', 'b', 'c'] as const;

let dir: string;
let cleanup: () => Promise<void>;
let fakes: Record<(typeof NAMES)[number], FakeAdminApi>;
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  fakes = {
    a: await startFakeAdminApi({ token: TOKEN, prefix: PREFIX }),
    b: await startFakeAdminApi({ token: TOKEN, prefix: PREFIX }),
    c: await startFakeAdminApi({ token: TOKEN, prefix: PREFIX }),
  };
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const fake of Object.values(fakes)) await fake.close();
  await cleanup();
});

interface Rig {
  engine: RolloutEngine;
  store: WatchStore;
  log: ReturnType<typeof memoryLogger>;
  metrics: ReturnType<typeof createMetrics>;
  stop(): Promise<void>;
}

async function rig(
  options: {
    waves?: string[][];
    soakMs?: number;
    retries?: number;
    refreshTimeoutMs?: number;
  } = {},
): Promise<Rig> {
  const log = memoryLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const store = createFileStore({ file: join(dir, 'state.json'), logger: log.logger });
  await store.open();
  const clients = new Map<string, AdminClient>(
    NAMES.map((name) => [
      name,
      createAdminClient({
        baseUrl: fakes[name].url,
        token: TOKEN,
        refreshTimeoutMs: options.refreshTimeoutMs ?? 5_000,
      }),
    ]),
  );
  const engine = createRolloutEngine({
    store,
    hosts: adminHosts(clients),
    settings: {
      waves: options.waves ?? [['a'], ['b', 'c']],
      soakMs: options.soakMs ?? 0,
      retries: options.retries ?? 1,
    },
    logger: log.logger,
    metrics,
    backoffMs: 20,
    waitPollMs: 20,
  });
  await engine.activate();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await engine.deactivate();
    await store.close();
    for (const client of clients.values()) await client.close();
  };
  closers.push(stop);
  return { engine, store, log, metrics, stop };
}

const refreshesOf = (name: (typeof NAMES)[number]) => fakes[name].refreshes;
const begin = (r: Rig, to: string, from = sha(1)) =>
  r.engine.begin({ target, from, to, alreadyDone: [] });

describe('rollout engine', () => {
  it('rolls out wave by wave in host order, by digest with the epoch; every host ends on the digest', async () => {
    const r = await rig({ waves: [['a'], ['b', 'c']] });
    const started = await begin(r, sha(2));
    expect(started).toMatchObject({ state: 'running', waves: [['a'], ['b', 'c']] });
    await rolloutsSettled(r.store);
    const done = await r.store.getRollout(started.id);
    expect(done).toMatchObject({ state: 'done', wave: 1 });
    expect(done?.hosts.map((h) => [h.name, h.state, h.attempts])).toEqual([
      ['a', 'done', 1],
      ['b', 'done', 1],
      ['c', 'done', 1],
    ]);
    for (const name of NAMES) {
      expect(refreshesOf(name)).toEqual([
        expect.objectContaining({ runtime: 'codex', digest: sha(2), epoch: 1, recreate: 'true' }),
      ]);
    }
    // Wave one (a) was done before wave two (b, c) started.
    expect(refreshesOf('a')[0]!.at).toBeLessThanOrEqual(
      Math.min(refreshesOf('b')[0]!.at, refreshesOf('c')[0]!.at),
    );
    expect((await r.store.seenDigest(target.image))?.digest).toBe(sha(2));
    expect(
      r.log
        .lines()
        .filter((l) => l.msg === 'host refreshed')
        .map((l) => [l.host, l.wave]),
    ).toEqual(
      expect.arrayContaining([
        ['a', 1],
        ['b', 2],
        ['c', 2],
      ]),
    );
  });

  it('waits the soak after a done wave before the next wave', async () => {
    const r = await rig({ waves: [['a'], ['b', 'c']], soakMs: 400 });
    await begin(r, sha(2));
    await waitFor(() => refreshesOf('a').length === 1);
    await waitFor(async () => (await r.store.activeRollouts())[0]?.soak_until !== null);
    expect(refreshesOf('b')).toHaveLength(0);
    await rolloutsSettled(r.store);
    const gap = refreshesOf('b')[0]!.at - refreshesOf('a')[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(380);
  });

  it('one failing host halts the rollout after its retries; the later wave stays untouched; resume completes it', async () => {
    const r = await rig({ waves: [['a', 'b'], ['c']], retries: 1 });
    fakes.b.failRefresh({ times: 2, status: 500 });
    const started = await begin(r, sha(3));
    await rolloutsSettled(r.store);
    const halted = await r.store.getRollout(started.id);
    expect(halted?.state).toBe('halted');
    expect(halted?.hosts.map((h) => [h.name, h.state, h.attempts])).toEqual([
      ['a', 'done', 1],
      ['b', 'failed', 2],
      ['c', 'pending', 0],
    ]);
    expect(refreshesOf('c')).toHaveLength(0);
    await waitFor(() => r.log.lines().some((l) => String(l.msg).startsWith('rollout halted')));

    const resumed = await r.engine.act(started.id, 'resume');
    expect(resumed).toMatchObject({ ok: true, rollout: { state: 'running' } });
    await rolloutsSettled(r.store);
    const done = await r.store.getRollout(started.id);
    expect(done?.state).toBe('done');
    // a is not called again; b is asked again (the fake answers now), then c.
    expect(refreshesOf('a')).toHaveLength(1);
    expect(refreshesOf('b')).toHaveLength(3);
    expect(refreshesOf('c')).toHaveLength(1);
  });

  it('a hanging host times out and halts its wave; a slow host just takes longer', async () => {
    const r = await rig({ waves: [['a', 'b'], ['c']], retries: 0, refreshTimeoutMs: 400 });
    fakes.a.refreshDelayMs = 150;
    fakes.b.refreshDelayMs = 60_000;
    const started = await begin(r, sha(4));
    await rolloutsSettled(r.store, 5_000);
    const halted = await r.store.getRollout(started.id);
    expect(halted?.state).toBe('halted');
    expect(halted?.hosts.find((h) => h.name === 'a')?.state).toBe('done');
    expect(halted?.hosts.find((h) => h.name === 'b')).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('no answer within 400 ms'),
    });
    expect(refreshesOf('c')).toHaveLength(0);
  });

  it('abort stops a rollout: its call in flight is aborted and nothing more is refreshed', async () => {
    const r = await rig({ waves: [['a'], ['b', 'c']] });
    fakes.a.refreshDelayMs = 2_000;
    const started = await begin(r, sha(5));
    await waitFor(() => refreshesOf('a').length === 1);
    const aborted = await r.engine.act(started.id, 'abort');
    expect(aborted).toMatchObject({ ok: true, rollout: { state: 'aborted' } });
    expect((await r.store.getRollout(started.id))?.hosts[0]).toMatchObject({
      state: 'failed',
      error: 'aborted',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(refreshesOf('b')).toHaveLength(0);
    expect(await r.engine.act(started.id, 'abort')).toMatchObject({
      ok: false,
      code: 'CONFLICT',
      reason: 'cannot abort a rollout that is aborted',
    });
    expect(await r.engine.act('r-nope', 'abort')).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  it('concurrent resume and abort: exactly one wins, the other is a conflict', async () => {
    const r = await rig({ waves: [['a'], ['b', 'c']], retries: 0 });
    fakes.a.failRefresh({ times: 1, status: 500 });
    const started = await begin(r, sha(6));
    await rolloutsSettled(r.store);
    expect((await r.store.getRollout(started.id))?.state).toBe('halted');
    fakes.a.refreshDelayMs = 500;
    const results = await Promise.all([
      r.engine.act(started.id, 'resume'),
      r.engine.act(started.id, 'abort'),
      r.engine.act(started.id, 'resume'),
    ]);
    const ok = results.filter((x) => x.ok);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    const states = results.map((x) => (x.ok ? x.rollout.state : 'refused'));
    // Resume then abort, or abort first (then both resumes are refused).
    expect([
      ['running', 'aborted', 'refused'],
      ['refused', 'aborted', 'refused'],
      ['running', 'refused', 'refused'],
    ]).toContainEqual(states);
    await rolloutsSettled(r.store);
  });

  it('rollback: a new rollout of the previous digest to the hosts that got the new one; the original is rolled_back', async () => {
    const r = await rig({ waves: [['a'], ['b'], ['c']], retries: 0 });
    fakes.b.failRefresh({ times: 1, status: 500 });
    const started = await begin(r, sha(8), sha(7));
    await rolloutsSettled(r.store);
    // a got the new digest, b failed, c was never reached.
    const halted = await r.store.getRollout(started.id);
    expect(halted?.hosts.map((h) => h.state)).toEqual(['done', 'failed', 'pending']);
    const result = await r.engine.act(started.id, 'rollback');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rollout).toMatchObject({ state: 'rolled_back', replaced_by: result.created?.id });
    expect(result.created).toMatchObject({
      kind: 'rollback',
      rollback_of: started.id,
      from: sha(8),
      to: sha(7),
    });
    await rolloutsSettled(r.store);
    const back = await r.store.getRollout(result.created!.id);
    expect(back?.state).toBe('done');
    expect(back?.hosts.map((h) => [h.name, h.state])).toEqual([
      ['a', 'done'],
      ['b', 'done'],
      ['c', 'done'],
    ]);
    expect(refreshesOf('a').map((c) => c.digest)).toEqual([sha(8), sha(7)]);
    expect(refreshesOf('b').map((c) => c.digest)).toEqual([sha(8)]);
    expect(refreshesOf('c')).toEqual([]);
    // The seen digest stays the registry's: the next tick does not roll the new digest out again.
    expect((await r.store.seenDigest(target.image))?.digest).toBe(sha(8));
    expect(await r.engine.act(result.created!.id, 'resume')).toMatchObject({
      ok: false,
      code: 'CONFLICT',
    });
  });

  it('a rollout without a known previous digest cannot be rolled back', async () => {
    const r = await rig({ waves: [['a', 'b', 'c']] });
    const started = await r.engine.begin({ target, from: undefined, to: sha(9), alreadyDone: [] });
    await rolloutsSettled(r.store);
    expect(await r.engine.act(started.id, 'rollback')).toMatchObject({
      ok: false,
      code: 'CONFLICT',
      reason: expect.stringContaining('no previous digest'),
    });
  });

  it('a newer digest supersedes a running rollout once its current wave ends; the new one starts at wave one', async () => {
    const r = await rig({ waves: [['a'], ['b', 'c']] });
    fakes.a.refreshDelayMs = 300;
    const first = await begin(r, sha(10));
    await waitFor(() => refreshesOf('a').length === 1);
    const second = await begin(r, sha(11), sha(10));
    expect(second.id).not.toBe(first.id);
    // The same digest again is the same rollout.
    expect((await begin(r, sha(11), sha(10))).id).toBe(second.id);
    await rolloutsSettled(r.store);
    expect(await r.store.getRollout(first.id)).toMatchObject({
      state: 'superseded',
      replaced_by: second.id,
    });
    expect(await r.store.getRollout(second.id)).toMatchObject({ state: 'done' });
    // Wave one of the first rollout finished (a got it), its wave two never ran.
    expect(refreshesOf('a').map((c) => c.digest)).toEqual([sha(10), sha(11)]);
    expect(refreshesOf('b').map((c) => c.digest)).toEqual([sha(11)]);
    expect(refreshesOf('c').map((c) => c.digest)).toEqual([sha(11)]);
  });

  it('a newer digest supersedes a halted rollout at once', async () => {
    const r = await rig({ waves: [['a'], ['b', 'c']], retries: 0 });
    fakes.a.failRefresh({ times: 1, status: 500 });
    const first = await begin(r, sha(12));
    await rolloutsSettled(r.store);
    const second = await begin(r, sha(13), sha(12));
    expect(await r.store.getRollout(first.id)).toMatchObject({
      state: 'superseded',
      replaced_by: second.id,
    });
    await rolloutsSettled(r.store);
    expect((await r.store.getRollout(second.id))?.state).toBe('done');
  });

  it('a restart mid-wave resumes: finished hosts are not called again, the host in flight is asked again', async () => {
    const first = await rig({ waves: [['a'], ['b', 'c']] });
    fakes.c.refreshDelayMs = 60_000; // c hangs: in flight when the process "dies"
    const started = await begin(first, sha(14));
    await waitFor(() => refreshesOf('c').length === 1 && refreshesOf('b').length === 1);
    await waitFor(
      async () => (await first.store.getRollout(started.id))?.hosts[1]?.state === 'done',
    );
    await first.stop();
    const inFlight = await first.store.getRollout(started.id);
    expect(inFlight?.hosts.map((h) => [h.name, h.state])).toEqual([
      ['a', 'done'],
      ['b', 'done'],
      ['c', 'running'],
    ]);

    fakes.c.refreshDelayMs = 0;
    const second = await rig({ waves: [['a'], ['b', 'c']] });
    await rolloutsSettled(second.store);
    expect((await second.store.getRollout(started.id))?.state).toBe('done');
    expect(refreshesOf('a')).toHaveLength(1);
    expect(refreshesOf('b')).toHaveLength(1);
    // c: the lost call, and the one the new process made after checking its local digest.
    expect(refreshesOf('c')).toHaveLength(2);
    expect(refreshesOf('c')[1]!.epoch).toBe(2);
    expect(fakes.c.calls.filter((call) => call.method === 'GET').length).toBeGreaterThanOrEqual(1);
  });

  it('an admin-api that accepted a newer epoch stops this engine at once, leaving the host to the new leader', async () => {
    const r = await rig({ waves: [['a', 'b', 'c']] });
    fakes.b.failRefresh({ times: 5, status: 409, code: 'STALE_EPOCH' });
    const started = await begin(r, sha(15));
    await waitFor(() =>
      r.log.lines().some((l) => String(l.msg).includes('this replica stops acting')),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const rollout = await r.store.getRollout(started.id);
    expect(rollout?.state).toBe('running');
    expect(rollout?.hosts.find((h) => h.name === 'b')?.state).toBe('running');
    expect(refreshesOf('b')).toHaveLength(1);
  });
});
