/**
 * Rollout benchmark (`pnpm --filter @molecule/imagewatch bench:rollouts`): registry requests
 * per tick with 1, 3 and 10 hosts (SPEC: "Registry cost does not grow with hosts"), against the
 * in-process fake registry with bearer token auth and one fake admin-api per host.
 *
 * For each host count: seed (first sight), 5 steady ticks, a push of a new digest for one
 * runtime, the tick that notices it (the rollout then runs over every host in waves
 * `1,50%,100%`), and 5 more ticks while and after it runs. Prints registry requests per tick
 * (steady, the noticing tick, after) and admin-api calls per host, then the ratio to 1 host.
 */
import { startFakeRegistry } from '@molecule/fake-registry';
import { KNOWN_RUNTIMES } from '@molecule/registry';
import { createLogger } from '@molecule/service-kit';
import { loadConfig } from '../src/config.js';
import { type FakeAdminApi, startFakeAdminApi } from '../test/fake-admin-api.js';
import { tempDir } from '../test/helpers.js';
import { startService } from '../test/service.js';

const USER = { username: 'bench', password: 'bench-secret' };
const TOKEN = 'bench-admin-token';
const STEADY_TICKS = 5;

interface Row {
  hosts: number;
  steadyPerTick: number;
  noticingTick: number;
  afterPerTick: number;
  adminCallsPerHost: number;
  rolloutState: string;
}

async function measure(hostCount: number): Promise<Row> {
  const registry = await startFakeRegistry({ auth: 'bearer', users: [USER] });
  const prefix = `${registry.host}/molecule-ai`;
  for (const runtime of KNOWN_RUNTIMES)
    registry.pushRandomImage(`molecule-ai/workspace-template-${runtime}`);
  const hosts: FakeAdminApi[] = [];
  for (let n = 0; n < hostCount; n += 1)
    hosts.push(await startFakeAdminApi({ token: TOKEN, prefix }));
  const { dir, cleanup } = await tempDir();
  const config = loadConfig({
    MOLECULE_IMAGE_REGISTRY: prefix,
    MOLECULE_REGISTRY_USERNAME: USER.username,
    MOLECULE_REGISTRY_PASSWORD: USER.password,
    MOLECULE_ADMIN_TOKEN: TOKEN,
    IMAGE_AUTO_REFRESH: 'true',
    IMAGE_WATCH_HOSTS: hosts.map((host, n) => `h${n}=${host.url}`).join(','),
    // One host has one wave (`1,50%,100%` would not grow: a configuration error).
    IMAGE_WATCH_ROLLOUT_WAVES: hostCount === 1 ? '100%' : '1,50%,100%',
    IMAGE_WATCH_STATE_FILE: `${dir}/state.json`,
    IMAGE_WATCH_INTERVAL: '1h',
    IMAGE_WATCH_PORT: '0',
    DOCKER_CONFIG: dir,
    LOG_LEVEL: 'warn',
  });
  const service = await startService(config, {
    logger: createLogger({ service: 'bench', level: 'warn' }),
  });
  const requestsDuring = async (ticks: number) => {
    const before = registry.requests.length;
    for (let n = 0; n < ticks; n += 1) await service.app.watcher.tick();
    return (registry.requests.length - before) / ticks;
  };
  try {
    await service.app.watcher.tick(); // first sight: seeds every runtime
    const steadyPerTick = await requestsDuring(STEADY_TICKS);
    const adminBefore = hosts.map((host) => host.calls.length);
    registry.pushRandomImage('molecule-ai/workspace-template-langgraph');
    const noticingTick = await requestsDuring(1);
    await service.rolloutsSettled();
    const afterPerTick = await requestsDuring(STEADY_TICKS);
    const [rollout] = await service.store.listRollouts({ limit: 1 });
    const adminCalls = hosts.reduce((sum, host, n) => sum + host.calls.length - adminBefore[n]!, 0);
    return {
      hosts: hostCount,
      steadyPerTick,
      noticingTick,
      afterPerTick,
      adminCallsPerHost: adminCalls / hostCount,
      rolloutState: rollout?.state ?? 'none',
    };
  } finally {
    await service.close({ graceMs: 1_000 });
    await Promise.all(hosts.map((host) => host.close()));
    await registry.close();
    await cleanup();
  }
}

const rows: Row[] = [];
for (const hostCount of [1, 3, 10]) rows.push(await measure(hostCount));
const base = rows[0]!;
console.log(
  `registry requests per tick, ${KNOWN_RUNTIMES.length} runtimes, waves 1,50%,100% (1 host: 100%), one push of langgraph`,
);
console.log(
  'hosts  steady/tick  noticing-tick  after/tick  admin-calls/host  rollout  steady-ratio-to-1-host',
);
for (const row of rows) {
  console.log(
    [
      String(row.hosts).padStart(5),
      row.steadyPerTick.toFixed(2).padStart(12),
      String(row.noticingTick).padStart(14),
      row.afterPerTick.toFixed(2).padStart(11),
      row.adminCallsPerHost.toFixed(1).padStart(17),
      row.rolloutState.padStart(8),
      (row.steadyPerTick / base.steadyPerTick).toFixed(2).padStart(23),
    ].join(''),
  );
}
