/**
 * The quick start's main job: a local registry under a non-default prefix, admin-api and
 * imagewatch started from their bins and configured by environment only, imagewatch
 * seeding, a new image pushed for one runtime, and the refresh rolling it out.
 * Ctrl-C stops everything it started.
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
import {
  distributionPublisher,
  fakeRegistryPublisher,
  type ImagePublisher,
} from './image-publisher.js';
import type { LogLine, ServiceName } from './service-process.js';
import { type Stack, startStack } from './stack.js';
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
function showServiceLine(line: LogLine, service: ServiceName) {
  const level = typeof line.level === 'number' ? line.level : 30;
  const interesting = level >= 40 || 'runtime' in line || 'container' in line;
  if (!interesting || typeof line.msg !== 'string') return;
  const fields = ['runtime', 'old', 'new', 'digest', 'container', 'progress', 'error']
    .filter((key) => line[key] !== undefined)
    .map(
      (key) => `${key}=${typeof line[key] === 'string' ? line[key] : JSON.stringify(line[key])}`,
    );
  say(`  ${service.padEnd(10)} ${line.msg}${fields.length > 0 ? `  (${fields.join(' ')})` : ''}`);
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
  const docker = engineClient(engine.socketPath);
  if (engine.kind === 'existing') {
    const workspaces = (await containerNames(docker)).filter((name) => name.startsWith('ws-'));
    if (workspaces.length > 0) {
      process.stderr.write(
        `The engine at ${engine.socketPath} already runs ws-* containers (${workspaces.join(', ')}).\n` +
          'The demo recreates ws-* containers and will not touch an engine that runs real workspaces.\n',
      );
      return 1;
    }
  }
  say(
    `engine: ${engine.kind === 'private' ? 'a private dockerd started for the demo' : engine.socketPath}`,
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
  await pullImage(docker, ref('langgraph'), {
    username: USER,
    password,
    serveraddress: publisher.host,
  });
  const workspaces = ['ws-demo-1', 'ws-demo-2'];
  for (const name of workspaces) {
    await startWorkspace(docker, { name, image: ref('langgraph') });
    cleanups.push(() =>
      docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined),
    );
  }
  say(`workspaces running on langgraph: ${workspaces.join(', ')}`);

  const stack: Stack = await startStack({
    publisher,
    engineSocketPath: engine.socketPath,
    credentials: { username: USER, password },
    workDir,
    interval: '3s',
    adminToken: randomBytes(16).toString('hex'),
    onLine: showServiceLine,
  });
  cleanups.push(() => stack.close());
  say(
    `admin-api on ${stack.adminApiUrl}, imagewatch on ${stack.imagewatchUrl} (interval 3s, auto-refresh on)`,
  );

  await stack.waitForSeeded(KNOWN_RUNTIMES.length);
  say(`imagewatch seeded ${KNOWN_RUNTIMES.length} runtimes (first sight: nothing to refresh)`);

  const digest = await publisher.publish('langgraph', 'v2');
  say(`pushed a new langgraph image: ${digest.slice(0, 19)}…`);
  await waitFor(
    'the refresh request',
    () => (stack.refreshedRuntimes().length > 0 ? true : undefined),
    20_000,
  );
  say(`imagewatch asked admin-api to refresh: ${stack.refreshedRuntimes().join(', ')}`);
  await waitForContainersGone(docker, workspaces, 120_000);
  const image = await docker.getImage(ref('langgraph')).inspect();
  say(
    `the engine now has ${image.RepoDigests?.find((d) => d.endsWith(digest)) ?? '(digest missing!)'}`,
  );
  say(`removed ${workspaces.join(', ')}: the platform re-provisions them on the new image`);
  say('done: the digest move was noticed and rolled out; stopping everything the demo started');
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
