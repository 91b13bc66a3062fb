/**
 * Rollouts across real hosts: three private dockerd engines, each with its own admin-api (the
 * built bins), one imagewatch with IMAGE_WATCH_HOSTS and waves `1,50%,100%`, and the real CNCF
 * distribution registry with token auth. A push rolls out wave by wave until every engine's
 * `:latest` is on the pushed digest and its old ws-* containers are gone; a stopped engine
 * halts the rollout after its wave with the later host untouched; resume after restarting the
 * engine completes it; rollback returns every engine to the previous digest.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Distribution,
  type Dockerd,
  missingRealParts,
  realPartsRequired,
  startDistribution,
  startDockerd,
} from '@molecule/real-parts';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, type Rollout, startFleet } from '../src/fleet.js';
import { distributionPublisher, type ImagePublisher } from '../src/image-publisher.js';
import { waitFor } from '../src/wait.js';
import {
  containerNames,
  engineClient,
  pullImage,
  repoDigests,
  startWorkspace,
} from '../src/workspaces.js';
import { summary } from './summary.js';

const missing = missingRealParts(['dockerd', 'docker-registry', 'busybox', 'openssl']);
if (missing && realPartsRequired())
  throw new Error(`CI=true and a real part is missing: ${missing}`);

const USER = 'fleet-bot';
const HOSTS = ['a', 'b', 'c'] as const;
type HostName = (typeof HOSTS)[number];

describe.skipIf(Boolean(missing))('rollouts in waves across three real engines', () => {
  const password = randomBytes(12).toString('hex');
  const adminToken = randomBytes(16).toString('hex');
  const log = summary('rollouts across three engines');
  const engines = new Map<HostName, Dockerd>();
  const dockers = new Map<HostName, Docker>();
  let distribution: Distribution;
  let publisher: ImagePublisher;
  let fleet: Fleet;
  let workDir: string;
  const ref = () => `${publisher.prefix}/workspace-template-langgraph:latest`;
  const auth = () => ({ username: USER, password, serveraddress: distribution.host });
  const latestDigest = async (host: HostName) =>
    (await repoDigests(dockers.get(host)!, ref())).map((d) => d.slice(d.indexOf('@') + 1));
  const workspaces = async (host: HostName) =>
    (await containerNames(dockers.get(host)!)).filter((name) => name.startsWith('ws-'));
  const provision = async (generation: string) => {
    for (const host of HOSTS) {
      await pullImage(dockers.get(host)!, ref(), auth());
      await startWorkspace(dockers.get(host)!, { name: `ws-${host}-${generation}`, image: ref() });
    }
  };
  const settled = (to: string, states: readonly string[]) =>
    waitFor(
      `a rollout to ${to.slice(0, 19)} in ${states.join('/')}`,
      async () =>
        (await fleet.rollouts('?runtime=langgraph')).find(
          (r) => r.to === to && states.includes(r.state),
        ),
      60_000,
      200,
    );

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'e2e-fleet-'));
    distribution = await startDistribution({
      auth: 'token',
      users: [{ username: USER, password }],
      allowAnonymousPull: false,
    });
    for (const host of HOSTS) {
      const engine = await startDockerd();
      engines.set(host, engine);
      dockers.set(host, engineClient(engine.socketPath));
    }
    publisher = distributionPublisher(distribution, 'fleet', { username: USER, password });
    await publisher.publish('langgraph', 'v1');
    await provision('v1');
    fleet = await startFleet({
      prefix: publisher.prefix,
      hosts: HOSTS.map((name) => ({ name, engineSocketPath: engines.get(name)!.socketPath })),
      credentials: { username: USER, password },
      workDir,
      adminToken,
      imagewatchEnv: {
        IMAGE_WATCH_RUNTIMES: 'langgraph',
        IMAGE_WATCH_ROLLOUT_WAVES: '1,50%,100%',
        IMAGE_WATCH_ROLLOUT_RETRIES: '1',
      },
    });
    // First sight: every host already runs the remote digest, so nothing is rolled out.
    await fleet.imagewatch.waitForLine(
      (line) => line.msg === 'tick done' && line.seeded === 1,
      20_000,
      'the first tick',
    );
  }, 180_000);

  afterAll(async () => {
    await fleet?.close();
    await Promise.allSettled([...engines.values()].map((engine) => engine.close()));
    await distribution?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }, 120_000);

  it('a push rolls out wave by wave: every engine ends on the digest, its old workspaces removed', async () => {
    expect(await fleet.rollouts()).toEqual([]);
    const v2 = await publisher.publish('langgraph', 'v2');
    const rollout: Rollout = await settled(v2, ['done']);
    expect(rollout.waves).toEqual([['a'], ['b'], ['c']]);
    expect(rollout.hosts.map((h) => [h.name, h.state])).toEqual([
      ['a', 'done'],
      ['b', 'done'],
      ['c', 'done'],
    ]);
    for (const host of HOSTS) {
      expect(await latestDigest(host)).toContain(v2);
      expect(await workspaces(host)).toEqual([]);
      // Each host was asked for exactly that digest, once.
      const calls = fleet.hosts.find((h) => h.name === host)!.refreshes();
      expect(calls).toEqual([{ runtime: 'langgraph', digest: v2 }]);
    }
    log(`v2 ${v2.slice(0, 19)} rolled out a → b → c; every engine on it, old workspaces removed`);
  });

  it('a stopped engine halts the rollout after its wave; the later host keeps its image and workspaces; resume completes it', async () => {
    const v2 = (await latestDigest('a'))[0]!;
    await provision('v2');
    await engines.get('b')!.stop();
    const v3 = await publisher.publish('langgraph', 'v3');
    const halted = await settled(v3, ['halted']);
    expect(halted.hosts.map((h) => [h.name, h.state])).toEqual([
      ['a', 'done'],
      ['b', 'failed'],
      ['c', 'pending'],
    ]);
    expect(halted.hosts[1]!.error).toBeTruthy();
    expect(await latestDigest('a')).toContain(v3);
    expect(await latestDigest('c')).toEqual([v2]);
    expect(await workspaces('c')).toEqual(['ws-c-v2']);
    expect(fleet.hosts.find((h) => h.name === 'c')!.refreshes()).toHaveLength(1);
    log(`v3 halted after wave 2 (engine b stopped): a on v3, c untouched on v2 with ws-c-v2`);

    await engines.get('b')!.start();
    const resumed = await fleet.act(halted.id, 'resume');
    expect(resumed.status).toBe(200);
    const done = await settled(v3, ['done']);
    expect(done.id).toBe(halted.id);
    for (const host of HOSTS) {
      expect(await latestDigest(host)).toContain(v3);
      expect(await workspaces(host)).toEqual([]);
    }
    // Wrong state for the action: 409.
    expect((await fleet.act(done.id, 'resume')).status).toBe(409);
    log('engine b restarted; resume completed v3 on b and c');
  });

  it('rollback returns every engine to the previous digest', async () => {
    const [done] = await fleet.rollouts('?state=done&limit=1');
    expect(done).toBeDefined();
    const back = await fleet.act(done!.id, 'rollback');
    expect(back.status).toBe(200);
    const rollback = (back.body as { rollback: Rollout }).rollback;
    expect(rollback.to).toBe(done!.from);
    await waitFor(
      'the rollback to finish',
      async () =>
        (await fleet.rollouts()).find((r) => r.id === rollback.id)?.state === 'done'
          ? true
          : undefined,
      60_000,
      200,
    );
    for (const host of HOSTS) expect(await latestDigest(host)).toContain(done!.from);
    const original = (await fleet.rollouts()).find((r) => r.id === done!.id);
    expect(original?.state).toBe('rolled_back');
    log(`rolled back: every engine's :latest on ${done!.from!.slice(0, 19)} again`);
  });
});
