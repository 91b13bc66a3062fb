/**
 * Fleet benchmark (`pnpm --filter @molecule/imagewatch bench:fleet`), issue 14: imagewatch
 * replicas (each its own `src/main.ts run` process) sharing one real PostgreSQL 15, one leader.
 * Prints numbers, asserts none:
 *
 *  1. failover: the leader SIGKILLed mid-rollout (host a's wave done, host b's refresh call held
 *     open by its fake admin-api) → the first refresh call under a higher epoch (X-Rollout-Epoch)
 *     on any host; a replacement replica keeps three alive, a new digest starts the next round.
 *     SPEC: a follower takes over within IMAGE_WATCH_LEADER_RETRY plus one tick;
 *  2. a registry hook (CNCF distribution envelope) posted at a follower → the leader's log line
 *     `registry hook: check done` (its pino `time`), with the same posted at the leader as the
 *     baseline;
 *  3. registry requests per tick with 1 and with 3 replicas (fresh database each; target: equal).
 *
 * Options (env): BENCH_KILLS (10), BENCH_HOOKS (50), BENCH_LEADER_RETRY (IMAGE_WATCH_LEADER_RETRY,
 * default its own default 5s; e.g. 1s for a shorter run). Needs PostgreSQL 15 (initdb, postgres).
 */
import { type FakeRegistry, startFakeRegistry } from '@molecule/fake-registry';
import {
  missingRealParts,
  POSTGRES_BINARIES,
  type Postgres,
  startPostgres,
} from '@molecule/real-parts';
import { formatDuration, parseDuration } from '@molecule/service-kit';
import {
  type FakeAdminApi,
  type RecordedAdminCall,
  startFakeAdminApi,
} from '../test/fake-admin-api.js';
import { type ReplicaProcess, startReplica } from '../test/fleet/replica-process.js';
import { tempDir, waitFor } from '../test/helpers.js';

const USER = { username: 'bench', password: 'bench-registry-secret' };
const TOKEN = 'bench-admin-token';
const HOOK_TOKEN = 'bench-hook-token';
const RUNTIMES = ['codex', 'langgraph'] as const;
const HOST_NAMES = ['a', 'b'] as const;
const WAVES = '1,100%';
const INTERVAL_MS = 1_000;
const COUNTED_TICKS = 10;

function fail(message: string): never {
  process.stderr.write(`bench:fleet: ${message}\n`);
  process.exit(2);
}

/** `process.env[name]` (else `fallback`) through `parse`: a positive integer, or exit 2. */
function option(
  name: string,
  fallback: string,
  expected: string,
  parse: (text: string) => number | undefined,
): number {
  const text = process.env[name] || fallback;
  const value = parse(text);
  if (value === undefined || !Number.isInteger(value) || value < 1) {
    fail(`${name}=${text}: expected ${expected}`);
  }
  return value;
}

const KILLS = option('BENCH_KILLS', '10', 'a positive integer', Number);
const HOOKS = option('BENCH_HOOKS', '50', 'a positive integer', Number);
const LEADER_RETRY_MS = option(
  'BENCH_LEADER_RETRY',
  '5s',
  'a duration ≥ 100ms (1s, 1500ms)',
  (text) => {
    const value = parseDuration(text);
    return value !== undefined && value >= 100 ? value : undefined;
  },
);
/** The SPEC's takeover bound: IMAGE_WATCH_LEADER_RETRY plus one tick. */
const BOUND_MS = LEADER_RETRY_MS + INTERVAL_MS;
/**
 * How long host b holds the killed leader's call. The fake admin-api still answers it after the
 * kill and then reports the digest as running, and a new leader finding it so makes no call at
 * all: the hold must outlast any takeover measured (twice the bound, and a margin).
 */
const HELD_REFRESH_MS = 2 * BOUND_MS + 5_000;
const missing = missingRealParts(POSTGRES_BINARIES);
if (missing !== undefined) fail(`needs PostgreSQL 15: ${missing}`);

const repository = (runtime: string) => `molecule-ai/workspace-template-${runtime}`;
const progress = (text: string) => process.stderr.write(`  … ${text}\n`);

// Everything started is undone here, newest first, on success, failure or Ctrl-C.
const cleanups: Array<() => Promise<unknown>> = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (let undo = cleanups.pop(); undo !== undefined; undo = cleanups.pop()) {
      await undo().catch((error: unknown) => process.stderr.write(`cleanup: ${String(error)}\n`));
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}

interface Fleet {
  readonly name: string;
  readonly registry: FakeRegistry;
  readonly hosts: readonly FakeAdminApi[];
  spawn(): Promise<ReplicaProcess>;
  alive(): ReplicaProcess[];
  /** The one replica whose `imagewatch_leader` gauge is 1, once every alive one answers. */
  leader(): Promise<ReplicaProcess>;
  kill(replica: ReplicaProcess): Promise<void>;
  refreshCalls(): Array<RecordedAdminCall & { host: string }>;
  rolloutDone(via: ReplicaProcess, digest: string): Promise<void>;
  postHook(to: ReplicaProcess, runtime: string): Promise<number>;
  /** The last log lines of every replica, for a failure's report. */
  tails(): string;
  close(): Promise<void>;
}
const openFleets = new Set<Fleet>();

/** A fake registry, two fake admin-api hosts and a fresh database; replicas on demand. */
async function startFleet(server: Postgres, name: string): Promise<Fleet> {
  const undo: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (let step = undo.pop(); step !== undefined; step = undo.pop()) {
      await step().catch((error: unknown) => process.stderr.write(`${name}: ${String(error)}\n`));
    }
  };
  cleanups.push(close);
  const { dir, cleanup } = await tempDir();
  undo.push(cleanup);
  const databaseUrl = await server.createDatabase(name);
  const registry = await startFakeRegistry({ auth: 'bearer', users: [USER] });
  undo.push(() => registry.close());
  const prefix = `${registry.host}/molecule-ai`;
  const hosts: FakeAdminApi[] = [];
  for (const _ of HOST_NAMES) {
    const host = await startFakeAdminApi({ token: TOKEN, prefix });
    undo.push(() => host.close());
    hosts.push(host);
  }
  // Every host runs the current digests: first sight records them and rolls nothing out.
  for (const runtime of RUNTIMES) {
    const digest = registry.pushRandomImage(repository(runtime));
    for (const host of hosts) {
      host.setLocal(runtime, `${prefix}/workspace-template-${runtime}:latest`, {
        id: `sha256:${'a'.repeat(64)}`,
        digest,
      });
    }
  }
  const env = {
    MOLECULE_IMAGE_REGISTRY: prefix,
    MOLECULE_REGISTRY_USERNAME: USER.username,
    MOLECULE_REGISTRY_PASSWORD: USER.password,
    MOLECULE_ADMIN_TOKEN: TOKEN,
    IMAGE_AUTO_REFRESH: 'true',
    IMAGE_WATCH_RUNTIMES: RUNTIMES.join(','),
    IMAGE_WATCH_HOSTS: hosts.map((host, n) => `${HOST_NAMES[n]}=${host.url}`).join(','),
    IMAGE_WATCH_ROLLOUT_WAVES: WAVES,
    IMAGE_WATCH_INTERVAL: `${INTERVAL_MS}ms`,
    IMAGE_WATCH_LEADER_RETRY: `${LEADER_RETRY_MS}ms`,
    IMAGE_WATCH_HOOK_TOKEN: HOOK_TOKEN,
    IMAGE_WATCH_DATABASE_URL: databaseUrl,
    IMAGE_WATCH_STATE_FILE: `${dir}/no-state-file.json`,
    DOCKER_CONFIG: dir,
    LOG_LEVEL: 'info',
  };
  const replicas: ReplicaProcess[] = [];
  const killed = new Set<ReplicaProcess>();
  let started = 0;
  undo.push(() => Promise.allSettled(replicas.map((replica) => replica.kill('SIGKILL'))));
  const alive = () => replicas.filter((replica) => !killed.has(replica));

  const fleet: Fleet = {
    name,
    registry,
    hosts,
    alive,
    async spawn() {
      started += 1;
      const replica = await startReplica(`${name}-r${started}`, env);
      replicas.push(replica);
      return replica;
    },
    leader: () =>
      waitFor(
        async () => {
          const among = alive();
          const gauges = await Promise.all(among.map((replica) => replica.leaderGauge()));
          const leaders = among.filter((_, n) => gauges[n] === 1);
          return leaders.length === 1 && gauges.every((g) => g !== undefined)
            ? leaders[0]
            : undefined;
        },
        30_000,
        50,
      ),
    async kill(replica) {
      killed.add(replica);
      await replica.kill('SIGKILL');
    },
    refreshCalls: () =>
      hosts.flatMap((host, n) => host.refreshes.map((call) => ({ host: HOST_NAMES[n]!, ...call }))),
    async rolloutDone(via, digest) {
      await waitFor(
        async () => {
          const response = await fetch(`${via.url}/rollouts`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          const list = (await response.json()) as Array<{ to: string; state: string }>;
          return list.some((rollout) => rollout.to === digest && rollout.state === 'done');
        },
        30_000,
        50,
      );
    },
    async postHook(to, runtime) {
      // https://distribution.github.io/distribution/about/notifications/ (the envelope)
      const response = await fetch(`${to.url}/hooks/registry`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${HOOK_TOKEN}`,
          'content-type': 'application/vnd.docker.distribution.events.v1+json',
        },
        body: JSON.stringify({
          events: [{ action: 'push', target: { repository: repository(runtime), tag: 'latest' } }],
        }),
      });
      await response.arrayBuffer();
      return response.status;
    },
    tails: () =>
      [
        ...replicas.map((replica) => {
          const state = killed.has(replica) ? 'killed' : 'alive';
          const tail = replica.lines.slice(-12).map((line) => `    ${JSON.stringify(line)}`);
          return [`  ${replica.name} (${state}):`, ...tail].join('\n');
        }),
        '  last refresh calls:',
        ...fleet
          .refreshCalls()
          .slice(-6)
          .map((call) => `    ${JSON.stringify(call)}`),
      ].join('\n'),
    close,
  };
  openFleets.add(fleet);
  undo.push(async () => openFleets.delete(fleet));
  return fleet;
}

const timeOf = (line: { time?: string }) => Date.parse(String(line.time));
const tickCount = (replica: ReplicaProcess) =>
  replica.lines.filter((line) => line.msg === 'tick done').length;
const waitForTicks = (replica: ReplicaProcess, count: number) =>
  replica.waitForLine(() => tickCount(replica) >= count, 30_000, `${count} ticks`);

/** Nearest rank: with 50 samples p99 is the maximum. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, n) => Math.max(title.length, ...rows.map((r) => r[n]!.length)));
  const line = (cells: readonly string[]) =>
    `   ${cells.map((cell, n) => (n === 0 ? cell.padEnd(widths[n]!) : cell.padStart(widths[n]!))).join('  ')}`;
  return [line(header), ...rows.map(line)].join('\n');
}

const ms = (value: number) => `${Math.round(value)} ms`;
/** `what`, n, then each percentile of `ranks` and the maximum. */
const statRow = (what: string, values: readonly number[], ranks: readonly number[]) => [
  what,
  String(values.length),
  ...ranks.map((p) => ms(percentile(values, p))),
  ms(Math.max(...values)),
];

async function measureFailover(server: Postgres): Promise<string> {
  const fleet = await startFleet(server, 'failover');
  const [, hostB] = fleet.hosts;
  await Promise.all([fleet.spawn(), fleet.spawn(), fleet.spawn()]);
  let leader = await fleet.leader();
  await waitForTicks(leader, 1); // first sight: seeded, nothing rolled out
  const total: number[] = [];
  const takeover: number[] = [];
  const resume: number[] = [];
  for (let round = 1; round <= KILLS; round += 1) {
    hostB!.refreshDelayMs = HELD_REFRESH_MS;
    const digest = fleet.registry.pushRandomImage(repository('codex'));
    // Wave one (host a) done, host b's call open: the leader is mid-rollout.
    const held = await waitFor(
      () => fleet.refreshCalls().find((call) => call.host === 'b' && call.digest === digest),
      30_000,
      2,
    );
    const oldEpoch = held.epoch ?? 0;
    const killedAt = Date.now();
    await fleet.kill(leader);
    hostB!.refreshDelayMs = 0;
    const first = await waitFor(
      () => fleet.refreshCalls().find((call) => (call.epoch ?? 0) > oldEpoch),
      HELD_REFRESH_MS,
      2,
    ).catch((error: unknown) => {
      const why = `kill ${round}: no refresh call under an epoch above ${oldEpoch} within ${ms(HELD_REFRESH_MS)} (bound ${ms(BOUND_MS)})`;
      throw new Error(why, { cause: error });
    });
    const next = await fleet.leader();
    const took = next.lines.find(
      (line) => line.msg === 'took leadership' && Number(line.epoch) > oldEpoch,
    );
    const tookAt = took === undefined ? Number.NaN : timeOf(took);
    total.push(first.at - killedAt);
    takeover.push(tookAt - killedAt);
    resume.push(first.at - tookAt);
    progress(
      `kill ${round}/${KILLS}: ${ms(first.at - killedAt)} (took leadership after ${ms(tookAt - killedAt)}, epoch ${oldEpoch} → ${first.epoch}, ${next.name})`,
    );
    await fleet.rolloutDone(next, digest);
    await fleet.spawn(); // three alive again
    leader = await fleet.leader();
  }
  await fleet.close();
  const over = total.filter((value) => value > BOUND_MS).length;
  return [
    `1. Failover: leader SIGKILLed mid-rollout → first refresh call under a higher epoch`,
    `   3 replicas, ${KILLS} kills, waves ${WAVES} over hosts a,b (killed mid-call to b, held ${formatDuration(HELD_REFRESH_MS)})`,
    table(
      ['', 'n', 'p50', 'max'],
      [
        statRow('kill → first refresh call', total, [50]),
        statRow('  kill → "took leadership"', takeover, [50]),
        statRow('  "took leadership" → call', resume, [50]),
      ],
    ),
    `   per kill (ms): ${total.map((value) => Math.round(value)).join(' ')}`,
    `   SPEC bound: IMAGE_WATCH_LEADER_RETRY + one tick = ${formatDuration(LEADER_RETRY_MS)} + ${formatDuration(INTERVAL_MS)} = ${ms(BOUND_MS)}; over it: ${over} of ${KILLS}`,
  ].join('\n');
}

async function measureHooks(server: Postgres): Promise<string> {
  const fleet = await startFleet(server, 'hooks');
  await Promise.all([fleet.spawn(), fleet.spawn(), fleet.spawn()]);
  const leader = await fleet.leader();
  await waitForTicks(leader, 1); // seeded: each hook's check then finds the digest unchanged
  const follower = fleet.alive().find((replica) => replica !== leader)!;
  const latencies = async (to: ReplicaProcess) => {
    const values: number[] = [];
    for (let n = 0; n < HOOKS; n += 1) {
      const seen = leader.lines.length;
      const sentAt = Date.now();
      const status = await fleet.postHook(to, 'codex');
      if (status !== 202) throw new Error(`hook ${n} at ${to.name}: HTTP ${status}, expected 202`);
      const done = await waitFor(
        () => leader.lines.slice(seen).find((line) => line.msg === 'registry hook: check done'),
        10_000,
        2,
      );
      values.push(timeOf(done) - sentAt);
    }
    return values;
  };
  const viaFollower = await latencies(follower);
  const viaLeader = await latencies(leader);
  const followerChecks = fleet
    .alive()
    .filter((replica) => replica !== leader)
    .flatMap((replica) => replica.lines.filter((l) => l.msg === 'registry hook: check done'));
  await fleet.close();
  return [
    `2. Hook → the leader's check done ("registry hook: check done", its pino time − send time)`,
    `   3 replicas, ${HOOKS} hooks each, one at a time, CNCF distribution envelope, bearer hook token`,
    table(
      ['posted at', 'n', 'p50', 'p90', 'p99', 'max'],
      [
        statRow('a follower (NOTIFY → leader)', viaFollower, [50, 90, 99]),
        statRow('the leader (baseline)', viaLeader, [50, 90, 99]),
      ],
    ),
    `   nearest-rank percentiles (p99 of ${HOOKS} is the ${HOOKS < 100 ? 'maximum' : `${Math.ceil(0.99 * HOOKS)}th`}); checks done by followers: ${followerChecks.length} (expected 0)`,
  ].join('\n');
}

interface TickRow {
  replicas: number;
  ticks: number;
  heads: number;
  requests: number;
  followerTicks: number;
}

async function measureTicks(server: Postgres, size: number): Promise<TickRow> {
  const fleet = await startFleet(server, `ticks_${size}`);
  await Promise.all(Array.from({ length: size }, () => fleet.spawn()));
  const leader = await fleet.leader();
  // From the end of a tick (at the earliest the first, first sight) to the end of COUNTED_TICKS
  // more: ticks are an interval apart, so each snapshot falls between two ticks.
  await waitForTicks(leader, tickCount(leader) + 1);
  const from = fleet.registry.requests.length;
  const fromTicks = tickCount(leader);
  await waitForTicks(leader, fromTicks + COUNTED_TICKS);
  const window = fleet.registry.requests.slice(from);
  const ticks = tickCount(leader) - fromTicks;
  const followerTicks = fleet
    .alive()
    .filter((replica) => replica !== leader)
    .reduce((sum, replica) => sum + tickCount(replica), 0);
  await fleet.close();
  return {
    replicas: size,
    ticks,
    heads: window.filter((r) => r.method === 'HEAD' && r.kind === 'manifest').length,
    requests: window.length,
    followerTicks,
  };
}

function ticksReport(rows: readonly TickRow[]): string {
  const [one] = rows;
  const per = (count: number, row: TickRow) => (count / row.ticks).toFixed(2);
  return [
    `3. Registry requests per tick (fresh database and registry each, ${RUNTIMES.length} runtimes, first-sight tick excluded)`,
    table(
      ['replicas', 'ticks', 'HEAD manifest/tick', 'all/tick', 'vs 1', 'follower ticks'],
      rows.map((row) => [
        String(row.replicas),
        String(row.ticks),
        per(row.heads, row),
        per(row.requests, row),
        `${(row.requests / row.ticks / (one!.requests / one!.ticks)).toFixed(2)}×`,
        String(row.followerTicks),
      ]),
    ),
    `   target: equal (one poller whatever the fleet size: ${RUNTIMES.length} HEADs per tick)`,
  ].join('\n');
}

const started = Date.now();
try {
  const server = await startPostgres();
  cleanups.push(() => server.close());
  process.stdout.write(
    [
      `imagewatch fleet bench (issue 14): PostgreSQL in ${server.binDir}, fake registry (bearer auth), fake admin-api hosts a,b`,
      `IMAGE_WATCH_LEADER_RETRY=${formatDuration(LEADER_RETRY_MS)}${process.env.BENCH_LEADER_RETRY ? ' (BENCH_LEADER_RETRY)' : ' (its default)'}  IMAGE_WATCH_INTERVAL=${formatDuration(INTERVAL_MS)}  runtimes ${RUNTIMES.join(',')}`,
      '',
      '',
    ].join('\n'),
  );
  process.stdout.write(`${await measureFailover(server)}\n\n`);
  process.stdout.write(`${await measureHooks(server)}\n\n`);
  const rows = [await measureTicks(server, 1), await measureTicks(server, 3)];
  process.stdout.write(`${ticksReport(rows)}\n\n`);
  process.stdout.write(`done in ${Math.round((Date.now() - started) / 1_000)} s\n`);
} catch (error) {
  for (const fleet of openFleets) process.stderr.write(`fleet ${fleet.name}:\n${fleet.tails()}\n`);
  throw error;
} finally {
  await cleanUp();
}
