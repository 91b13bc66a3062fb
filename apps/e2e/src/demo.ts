/**
 * The quick start's main job: a local registry under a non-default prefix, two Docker hosts
 * each with its own admin-api, and imagewatch rolling out across them in waves (`1,100%`, a
 * soak between), all started from their bins and configured by environment only: imagewatch
 * seeds, a new image is pushed for one runtime, and the rollout reaches host a, soaks, then
 * host b. Ctrl-C stops everything it started.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeRegistry, startFakeRegistry } from '@molecule/fake-registry';
import { type Distribution, findBinary, startDistribution } from '@molecule/real-parts';
import { KNOWN_RUNTIMES } from '@molecule/registry';
import { e2eConfig } from './e2e-config.js';
import { chooseEngine } from './engine-discovery.js';
import { type Fleet, startFleet } from './fleet.js';
import {
  distributionPublisher,
  fakeRegistryPublisher,
  type ImagePublisher,
} from './image-publisher.js';
import type { LogLine, ServiceName } from './service-process.js';
import { waitFor } from './wait.js';
import {
  containerNames,
  engineClient,
  pullImage,
  startWorkspace,
  waitForContainersGone,
} from './workspaces.js';

const USER = 'demo';
const started = Date.now();
const say = (text: string) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[${seconds}s] ${text}\n`);
};

const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp() {
  while (cleanups.length > 0)
    await cleanups
      .pop()?.()
      .catch(() => undefined);
}
let stopping = false;
process.on('SIGINT', () => {
  if (stopping) return;
  stopping = true;
  say('interrupted: stopping everything the demo started');
  void cleanUp().then(() => process.exit(130));
});

/** Service log lines worth a person's attention, in one short line each. */
function showServiceLine(line: LogLine, service: ServiceName, host?: string) {
  const level = typeof line.level === 'number' ? line.level : 30;
  const interesting =
    level >= 40 || 'rollout' in line || 'container' in line || line.msg === 'image pulled';
  if (!interesting || typeof line.msg !== 'string') return;
  const fields = ['runtime', 'digest', 'host', 'wave', 'soakUntil', 'container', 'error']
    .filter((key) => line[key] !== undefined)
    .map(
      (key) => `${key}=${typeof line[key] === 'string' ? line[key] : JSON.stringify(line[key])}`,
    );
  const who = host === undefined ? service : `${service}@${host}`;
  say(`  ${who.padEnd(12)} ${line.msg}${fields.length > 0 ? `  (${fields.join(' ')})` : ''}`);
}

async function main(): Promise<number> {
  const password = randomBytes(12).toString('hex');
  const workDir = await mkdtemp(join(tmpdir(), 'molecule-demo-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));

  const engine = await chooseEngine(e2eConfig.dockerHost);
  if (engine.kind === 'missing') {
    process.stderr.write(`${engine.reason}\n`);
    return 1;
  }
  cleanups.push(engine.close);
  // Host b gets a private engine of its own when one can be started; on an existing engine
  // both hosts share it (host b then finds the image already there).
  const engineB = engine.kind === 'private' ? await chooseEngine(undefined) : engine;
  if (engineB.kind === 'missing') throw new Error(engineB.reason);
  if (engineB !== engine) cleanups.push(engineB.close);
  const hostEngines = [
    { name: 'a', socketPath: engine.socketPath },
    { name: 'b', socketPath: engineB.socketPath },
  ];
  for (const socketPath of new Set(hostEngines.map((h) => h.socketPath))) {
    const workspaces = (await containerNames(engineClient(socketPath))).filter((name) =>
      name.startsWith('ws-'),
    );
    if (workspaces.length > 0) {
      process.stderr.write(
        `The engine at ${socketPath} already runs ws-* containers (${workspaces.join(', ')}).\n` +
          'The demo recreates ws-* containers and will not touch an engine that runs real workspaces.\n',
      );
      return 1;
    }
  }
  say(
    engine.kind === 'private'
      ? 'hosts: a and b, each a private dockerd started for the demo, each with its own admin-api'
      : `hosts: a and b, both on the engine at ${engine.socketPath}, each with its own admin-api`,
  );

  let publisher: ImagePublisher;
  if (findBinary('docker-registry')) {
    const distribution: Distribution = await startDistribution({
      auth: 'token',
      users: [{ username: USER, password }],
      allowAnonymousPull: false,
    });
    cleanups.push(() => distribution.close());
    publisher = distributionPublisher(distribution, 'acme-mirror', { username: USER, password });
    say(
      `registry: CNCF distribution at ${distribution.host} with token auth (anonymous pulls refused)`,
    );
  } else {
    const registry: FakeRegistry = await startFakeRegistry({
      auth: 'bearer',
      users: [{ username: USER, password }],
      allowAnonymousPull: false,
    });
    cleanups.push(() => registry.close());
    publisher = fakeRegistryPublisher(registry, 'acme-mirror');
    say(
      `registry: the in-process fake registry at ${registry.host} (install docker-registry for the real one)`,
    );
  }
  say(`MOLECULE_IMAGE_REGISTRY=${publisher.prefix}`);

  for (const runtime of KNOWN_RUNTIMES) await publisher.publish(runtime, 'v1');
  say(`published ${KNOWN_RUNTIMES.length} template images: ${KNOWN_RUNTIMES.join(', ')}`);

  const ref = (runtime: string) => `${publisher.prefix}/workspace-template-${runtime}:latest`;
  const workspaces: Array<{ name: string; socketPath: string }> = [];
  for (const host of hostEngines) {
    const docker = engineClient(host.socketPath);
    await pullImage(docker, ref('langgraph'), {
      username: USER,
      password,
      serveraddress: publisher.host,
    });
    const name = `ws-demo-${host.name}`;
    await startWorkspace(docker, { name, image: ref('langgraph') });
    workspaces.push({ name, socketPath: host.socketPath });
    cleanups.push(() =>
      docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined),
    );
  }
  say(`workspaces running on langgraph: ${workspaces.map((w) => w.name).join(', ')}`);

  const fleet: Fleet = await startFleet({
    prefix: publisher.prefix,
    hosts: hostEngines.map((host) => ({ name: host.name, engineSocketPath: host.socketPath })),
    credentials: { username: USER, password },
    workDir,
    adminToken: randomBytes(16).toString('hex'),
    imagewatchEnv: {
      IMAGE_WATCH_INTERVAL: '2s',
      IMAGE_WATCH_ROLLOUT_WAVES: '1,100%',
      IMAGE_WATCH_ROLLOUT_SOAK: '3s',
    },
    onLine: showServiceLine,
  });
  cleanups.push(() => fleet.close());
  say(
    `imagewatch on ${fleet.imagewatchUrl}: IMAGE_WATCH_HOSTS=a,b, waves 1,100%, soak 3s, interval 2s`,
  );

  await fleet.imagewatch.waitForLine(
    (line) => line.msg === 'tick done' && line.seeded === KNOWN_RUNTIMES.length,
    30_000,
    'imagewatch to seed every runtime',
  );
  say(`imagewatch seeded ${KNOWN_RUNTIMES.length} runtimes (first sight: nothing to roll out)`);

  const digest = await publisher.publish('langgraph', 'v2');
  say(`pushed a new langgraph image: ${digest.slice(0, 19)}…`);
  const rollout = await waitFor(
    'the rollout to finish',
    async () => (await fleet.rollouts()).find((r) => r.to === digest && r.state === 'done'),
    60_000,
    200,
  );
  for (const host of hostEngines) {
    const image = await engineClient(host.socketPath).getImage(ref('langgraph')).inspect();
    say(
      `host ${host.name}: :latest is ${image.RepoDigests?.find((d) => d.endsWith(digest)) ?? '(digest missing!)'}`,
    );
  }
  for (const workspace of workspaces) {
    await waitForContainersGone(engineClient(workspace.socketPath), [workspace.name], 30_000);
  }
  say(
    `rollout ${rollout.id}: waves ${rollout.waves.map((w) => w.join('+')).join(' → ')}, ` +
      `hosts ${rollout.hosts.map((h) => `${h.name}=${h.state}`).join(' ')}; ` +
      `removed ${workspaces.map((w) => w.name).join(', ')}: the platform re-provisions them`,
  );
  say('done: the digest move was rolled out host by host; stopping everything the demo started');
  return 0;
}

main()
  .then(async (code) => {
    await cleanUp();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(
      `demo failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    await cleanUp();
    process.exit(1);
  });
