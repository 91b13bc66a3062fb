/**
 * Rollout overhead on real hosts (`pnpm --filter @molecule/e2e bench:rollouts`, after a build):
 * three private dockerd engines, each with its own admin-api (the built bins), one imagewatch
 * with waves `1,100%` and no soak, the CNCF distribution registry with token auth. Each run
 * starts 3 workspaces per host on the current image, pushes a new one and posts the registry's
 * push notification to imagewatch (as distribution would), then measures push → last host
 * done, against the hosts' own refresh times (admin-api's `refresh finished` durationMs):
 *
 *   sum       a + b + c (every host refresh back to back)
 *   critical  a + max(b, c) (wave two refreshes b and c at once): the floor of this plan
 *
 * overhead = (push to done − critical) / critical is what the rollout machinery adds (the
 * notification, the digest check, the verification listing per host, the state commits).
 * BENCH_RUNS (3); BENCH_TRACE=1 prints imagewatch's log lines of each run, timed from the push.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Dockerd, startDistribution, startDockerd } from '@molecule/real-parts';
import { startFleet } from '../src/fleet.js';
import { distributionPublisher } from '../src/image-publisher.js';
import { waitFor } from '../src/wait.js';
import { engineClient, pullImage, startWorkspace } from '../src/workspaces.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const HOSTS = ['a', 'b', 'c'];
const WORKSPACES_PER_HOST = 3;
const USER = 'bench';
const password = randomBytes(12).toString('hex');
const adminToken = randomBytes(16).toString('hex');
const hookToken = randomBytes(16).toString('hex');

const workDir = await mkdtemp(join(tmpdir(), 'bench-rollout-'));
const distribution = await startDistribution({
  auth: 'token',
  users: [{ username: USER, password }],
  allowAnonymousPull: false,
});
const engines: Dockerd[] = [];
for (const _ of HOSTS) engines.push(await startDockerd());
const publisher = distributionPublisher(distribution, 'bench', { username: USER, password });
const ref = `${publisher.prefix}/workspace-template-langgraph:latest`;
await publisher.publish('langgraph', 'v0');

async function provision(run: number) {
  await Promise.all(
    engines.map(async (engine, index) => {
      const docker = engineClient(engine.socketPath);
      await pullImage(docker, ref, { username: USER, password, serveraddress: distribution.host });
      for (let n = 0; n < WORKSPACES_PER_HOST; n += 1)
        await startWorkspace(docker, { name: `ws-${HOSTS[index]}-${run}-${n}`, image: ref });
    }),
  );
}

await provision(0);
const fleet = await startFleet({
  prefix: publisher.prefix,
  hosts: HOSTS.map((name, index) => ({ name, engineSocketPath: engines[index]!.socketPath })),
  credentials: { username: USER, password },
  workDir,
  adminToken,
  imagewatchEnv: {
    IMAGE_WATCH_RUNTIMES: 'langgraph',
    IMAGE_WATCH_INTERVAL: '1h',
    IMAGE_WATCH_ROLLOUT_WAVES: '1,100%',
    IMAGE_WATCH_HOOK_TOKEN: hookToken,
    LOG_LEVEL: 'info',
  },
});
await fleet.imagewatch.waitForLine((line) => line.msg === 'tick done', 20_000, 'the first tick');

const refreshTimes = (host: (typeof fleet.hosts)[number], from: number) =>
  host.adminApi.lines
    .slice(from)
    .filter((line) => line.msg === 'refresh finished')
    .map((line) => Number(line.durationMs));

console.log(
  `rollout overhead: 3 real hosts, waves 1,100%, no soak, ${WORKSPACES_PER_HOST} workspaces per host (ms)`,
);
console.log(
  'run  push_to_done  host_a  host_b  host_c     sum  critical  overhead_vs_critical  vs_sum',
);
const overheads: number[] = [];
try {
  for (let run = 1; run <= RUNS; run += 1) {
    if (run > 1) await provision(run);
    const marks = fleet.hosts.map((host) => host.adminApi.lines.length);
    const imagewatchMark = fleet.imagewatch.lines.length;
    const digest = await publisher.publish('langgraph', `v${run}`);
    const pushed = Date.now();
    const hook = await fetch(`${fleet.imagewatchUrl}/hooks/registry`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${hookToken}`,
        'content-type': 'application/vnd.docker.distribution.events.v1+json',
      },
      body: JSON.stringify({
        events: [
          {
            action: 'push',
            target: { repository: 'bench/workspace-template-langgraph', tag: 'latest', digest },
            request: { host: distribution.host },
          },
        ],
      }),
    });
    if (hook.status >= 300) throw new Error(`hook answered ${hook.status}`);
    const done = await waitFor(
      `the rollout of run ${run}`,
      async () =>
        (await fleet.rollouts('?runtime=langgraph')).find(
          (r) => r.to === digest && r.state === 'done',
        ) as { updated_at: string } | undefined,
      120_000,
      // The done time is the rollout's own updated_at: polling often would only add load.
      250,
    );
    const pushToDone = Date.parse(done.updated_at) - pushed;
    if (process.env.BENCH_TRACE === '1') {
      for (const line of fleet.imagewatch.lines.slice(imagewatchMark)) {
        if (line.msg === 'request completed') continue;
        const at = typeof line.time === 'string' ? Date.parse(line.time) - pushed : Number.NaN;
        console.log(`    +${at}ms imagewatch ${line.msg} ${line.host ?? ''}`);
      }
    }
    const [a, b, c] = fleet.hosts.map((host, index) => {
      const times = refreshTimes(host, marks[index]!);
      if (times.length !== 1) throw new Error(`host ${host.name}: ${times.length} refreshes`);
      return times[0]!;
    }) as [number, number, number];
    const sum = a + b + c;
    const critical = a + Math.max(b, c);
    const overhead = (pushToDone - critical) / critical;
    overheads.push(overhead);
    console.log(
      [
        String(run).padStart(3),
        String(pushToDone).padStart(14),
        String(a).padStart(8),
        String(b).padStart(8),
        String(c).padStart(8),
        String(sum).padStart(8),
        String(critical).padStart(10),
        `${(overhead * 100).toFixed(1)}%`.padStart(22),
        `${(((pushToDone - sum) / sum) * 100).toFixed(1)}%`.padStart(8),
      ].join(''),
    );
  }
  const sorted = [...overheads].sort((x, y) => x - y);
  console.log(
    `overhead_vs_critical median=${(sorted[Math.floor(sorted.length / 2)]! * 100).toFixed(1)}% (target < 10%)`,
  );
} finally {
  await fleet.close();
  await Promise.allSettled(engines.map((engine) => engine.close()));
  await distribution.close();
  await rm(workDir, { recursive: true, force: true });
}
