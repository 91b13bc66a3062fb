/**
 * Several imagewatch replicas, each its own process, sharing one real PostgreSQL 15 (SPEC
 * "Fleet state on PostgreSQL"): one schema and one leader when three start at once, one poller
 * (one HEAD per runtime per tick, not three), a hook at a follower checked by the leader within
 * 1 s, a SIGKILLed leader replaced within the leader retry plus a tick with the rollout
 * resumed and a higher epoch, a leader whose backend is terminated making no call under its old
 * epoch, and PostgreSQL stopped for 30 s during a push: no refresh meanwhile, the push rolled
 * out after, nothing lost.
 */
import { type FakeRegistry, startFakeRegistry } from '@molecule/fake-registry';
import {
  getFreePort,
  POSTGRES_BINARIES,
  type Postgres,
  realPartsGate,
  startPostgres,
} from '@molecule/real-parts';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEADER_LOCK_OBJID, LOCK_CLASS_ID, MIGRATIONS } from '../../src/store/migrations.js';
import { type FakeAdminApi, startFakeAdminApi } from '../fake-admin-api.js';
import { tempDir, waitFor } from '../helpers.js';
import { type ReplicaProcess, startReplica } from './replica-process.js';

const gate = realPartsGate(POSTGRES_BINARIES);
const USER = { username: 'fleet', password: 'fleet-registry-s3cret' };
const TOKEN = 'fleet-admin-token';
const HOOK_TOKEN = 'fleet-hook-token';
const DB_PASSWORD = 'fleet-db-s3cret-never-logged';
const RUNTIMES = ['codex', 'langgraph'] as const;
const INTERVAL_MS = 1_000;
const LEADER_RETRY_MS = 1_000;

describe.skipIf(gate.skip)(
  `three imagewatch replicas on one PostgreSQL ${gate.reason ?? ''}`,
  () => {
    let server: Postgres;
    let databaseUrl: string;
    let registry: FakeRegistry;
    let hosts: FakeAdminApi[];
    let dir: string;
    let cleanup: () => Promise<void>;
    const replicas: ReplicaProcess[] = [];
    let started = 0;

    const repository = (runtime: string) => `molecule-ai/workspace-template-${runtime}`;
    const image = (runtime: string) => `${registry.host}/${repository(runtime)}:latest`;
    const env = (url = databaseUrl) => ({
      MOLECULE_IMAGE_REGISTRY: `${registry.host}/molecule-ai`,
      MOLECULE_REGISTRY_USERNAME: USER.username,
      MOLECULE_REGISTRY_PASSWORD: USER.password,
      MOLECULE_ADMIN_TOKEN: TOKEN,
      IMAGE_AUTO_REFRESH: 'true',
      IMAGE_WATCH_RUNTIMES: RUNTIMES.join(','),
      IMAGE_WATCH_HOSTS: hosts.map((host, n) => `${'ab'[n]}=${host.url}`).join(','),
      IMAGE_WATCH_ROLLOUT_WAVES: '1,100%',
      IMAGE_WATCH_INTERVAL: `${INTERVAL_MS}ms`,
      IMAGE_WATCH_LEADER_RETRY: `${LEADER_RETRY_MS}ms`,
      IMAGE_WATCH_HOOK_TOKEN: HOOK_TOKEN,
      IMAGE_WATCH_DATABASE_URL: url,
      IMAGE_WATCH_STATE_FILE: `${dir}/no-state-file.json`,
      DOCKER_CONFIG: dir,
      LOG_LEVEL: 'info',
    });
    const spawnReplica = async () => {
      started += 1;
      const replica = await startReplica(`r${started}`, env());
      replicas.push(replica);
      return replica;
    };
    const killed = new Set<ReplicaProcess>();
    const alive = () => replicas.filter((r) => !killed.has(r));
    const leaderOf = async (among = alive()) =>
      waitFor(
        async () => {
          const gauges = await Promise.all(among.map((r) => r.leaderGauge()));
          const leaders = among.filter((_, n) => gauges[n] === 1);
          return leaders.length === 1 && gauges.every((g) => g !== undefined)
            ? leaders[0]
            : undefined;
        },
        20_000,
        100,
      );
    const query = async (sql: string, values: unknown[] = []) => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return (await client.query(sql, values)).rows;
      } finally {
        await client.end();
      }
    };
    const refreshCalls = () =>
      hosts.flatMap((host, n) => host.refreshes.map((call) => ({ host: 'ab'[n]!, ...call })));
    const rollouts = async (via: ReplicaProcess) => {
      const response = await fetch(`${via.url}/rollouts`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return (await response.json()) as Array<{ id: string; to: string; state: string }>;
    };
    const kill = async (replica: ReplicaProcess) => {
      killed.add(replica);
      await replica.kill('SIGKILL');
    };

    beforeAll(async () => {
      ({ dir, cleanup } = await tempDir());
      server = await startPostgres();
      databaseUrl = (await server.createDatabase('fleet')).replace(
        'postgres@',
        `postgres:${DB_PASSWORD}@`,
      );
      registry = await startFakeRegistry({ auth: 'bearer', users: [USER] });
      for (const runtime of RUNTIMES) registry.pushRandomImage(repository(runtime));
      hosts = [
        await startFakeAdminApi({ token: TOKEN, prefix: `${registry.host}/molecule-ai` }),
        await startFakeAdminApi({ token: TOKEN, prefix: `${registry.host}/molecule-ai` }),
      ];
      // Every host runs the current digests: first sight records them and rolls nothing out.
      for (const host of hosts)
        for (const runtime of RUNTIMES)
          host.setLocal(runtime, image(runtime), {
            id: `sha256:${'a'.repeat(64)}`,
            digest: registry.digestOf(repository(runtime), 'latest')!,
          });
    }, 60_000);

    afterAll(async () => {
      await Promise.allSettled(replicas.map((r) => r.kill('SIGKILL')));
      await Promise.allSettled(hosts?.map((host) => host.close()) ?? []);
      await registry?.close();
      await server?.close();
      await cleanup?.();
    });

    it('three start at once: one schema, one leader, one poller (one HEAD per runtime per tick)', async () => {
      await Promise.all([spawnReplica(), spawnReplica(), spawnReplica()]);
      const leader = await leaderOf();
      const migrations = await query('SELECT version FROM imagewatch_schema_migrations');
      expect(migrations).toHaveLength(MIGRATIONS.length);
      // Let the leader tick a few times, then compare its ticks with the registry's HEADs.
      await leader.waitForLine(
        (l) =>
          l.msg === 'tick done' && leader.lines.filter((x) => x.msg === 'tick done').length >= 4,
        15_000,
        'four ticks',
      );
      const ticks = leader.lines.filter((l) => l.msg === 'tick done').length;
      const heads = registry.requests.filter((r) => r.method === 'HEAD' && r.kind === 'manifest');
      expect(heads.length).toBeGreaterThanOrEqual(ticks * RUNTIMES.length);
      expect(heads.length).toBeLessThanOrEqual((ticks + 1) * RUNTIMES.length);
      for (const follower of alive().filter((r) => r !== leader)) {
        expect(follower.lines.filter((l) => l.msg === 'tick done')).toEqual([]);
        const health = await follower.health();
        expect(health).toMatchObject({ status: 200, body: { role: 'follower', status: 'ok' } });
      }
      expect(refreshCalls()).toEqual([]);
    }, 60_000);

    it('a hook posted to a follower is checked by the leader within 1 s', async () => {
      const leader = await leaderOf();
      const follower = alive().find((r) => r !== leader)!;
      const sent = Date.now();
      const answer = await fetch(`${follower.url}/hooks/registry`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${HOOK_TOKEN}`,
          'content-type': 'application/vnd.docker.distribution.events.v1+json',
        },
        body: JSON.stringify({
          events: [{ action: 'push', target: { repository: repository('codex'), tag: 'latest' } }],
        }),
      });
      expect(answer.status).toBe(202);
      const checked = await leader.waitForLine(
        (l) => l.msg === 'registry hook: check done' && Date.parse(String(l.time)) >= sent,
        4_000,
        "the leader's hook check",
      );
      expect(Date.parse(String(checked.time)) - sent).toBeLessThan(2_000);
      expect(follower.lines.some((l) => l.msg === 'registry hook: check done' && l.outcome)).toBe(
        false,
      );
    }, 30_000);

    it('SIGKILL of the leader mid-rollout: another takes over within the retry plus a tick, with a higher epoch; no host refreshed twice but the one in flight', async () => {
      const leader = await leaderOf();
      // Held well past the takeover bound: a call that completed before the new leader looked
      // would make host b already run the digest (no second call to observe).
      hosts[1]!.refreshDelayMs = 8_000;
      const digest = registry.pushRandomImage(repository('codex'));
      // Wave one (host a) done, host b's call in flight: kill the leader.
      await waitFor(
        () =>
          refreshCalls().some((c) => c.host === 'b' && c.digest === digest) ? true : undefined,
        15_000,
      );
      const oldEpoch = refreshCalls().find((c) => c.digest === digest)!.epoch!;
      const killedAt = Date.now();
      await kill(leader);
      hosts[1]!.refreshDelayMs = 0;
      const next = await leaderOf();
      expect(next).not.toBe(leader);
      const resumed = await waitFor(
        () =>
          refreshCalls().find(
            (c) => c.host === 'b' && c.digest === digest && (c.epoch ?? 0) > oldEpoch,
          ),
        15_000,
      );
      // Takeover within IMAGE_WATCH_LEADER_RETRY plus one tick (and a margin for a loaded machine).
      expect(resumed.at - killedAt).toBeLessThan(LEADER_RETRY_MS + INTERVAL_MS + 2_000);
      await waitFor(async () => {
        const list = await rollouts(next);
        return list.find((r) => r.to === digest && r.state === 'done');
      }, 15_000);
      const forDigest = refreshCalls().filter((c) => c.digest === digest);
      expect(forDigest.filter((c) => c.host === 'a')).toHaveLength(1);
      expect(forDigest.filter((c) => c.host === 'b')).toHaveLength(2);
      await spawnReplica();
    }, 60_000);

    it("the leader's backend terminated from SQL: no further refresh call under its old epoch", async () => {
      const leader = await leaderOf();
      const [{ epoch: before }] = (await query(
        'SELECT epoch FROM imagewatch_leader WHERE id = 1',
      )) as [{ epoch: string }];
      const [lock] = (await query(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2`,
        [LOCK_CLASS_ID, LEADER_LOCK_OBJID],
      )) as Array<{ pid: number }>;
      expect(lock).toBeDefined();
      const terminatedAt = Date.now();
      await query('SELECT pg_terminate_backend($1)', [lock!.pid]);
      await leader.waitForLine(
        (l) => typeof l.msg === 'string' && /not the leader any more/.test(l.msg),
        10_000,
        'the leader stepping down',
      );
      const digest = registry.pushRandomImage(repository('langgraph'));
      const next = await leaderOf();
      await waitFor(async () => {
        const list = await rollouts(next);
        return list.find((r) => r.to === digest && r.state === 'done');
      }, 20_000);
      const after = refreshCalls().filter((c) => c.at >= terminatedAt);
      expect(after.length).toBeGreaterThan(0);
      for (const call of after) expect(call.epoch).toBeGreaterThan(Number(before));
    }, 60_000);

    it('PostgreSQL stopped for 30 s during a push: no refresh meanwhile, health says so; the push rolled out after, nothing lost', async () => {
      const leader = await leaderOf();
      const before = await rollouts(leader);
      await server.stop();
      const stoppedAt = Date.now();
      const digest = registry.pushRandomImage(repository('codex'));
      await waitFor(async () => {
        const healths = await Promise.all(alive().map((r) => r.health()));
        return healths.every((h) => h?.status === 503 && h.body.status === 'unhealthy')
          ? healths
          : undefined;
      }, 15_000);
      while (Date.now() - stoppedAt < 30_000) await new Promise((r) => setTimeout(r, 500));
      expect(refreshCalls().filter((c) => c.at >= stoppedAt)).toEqual([]);
      await server.start();
      const next = await leaderOf();
      await waitFor(async () => {
        const list = await rollouts(next);
        return list.find((r) => r.to === digest && r.state === 'done');
      }, 30_000);
      const after = await rollouts(next);
      for (const rollout of before) expect(after.map((r) => r.id)).toContain(rollout.id);
      for (const replica of alive()) {
        expect(JSON.stringify(replica.lines)).not.toContain(DB_PASSWORD);
        expect(JSON.stringify(replica.lines)).not.toContain(USER.password);
      }
    }, 120_000);

    it('an unreachable database at start: unhealthy, retrying, never a refresh; a bad URL exits 2 naming it', async () => {
      const calls = refreshCalls().length;
      const closedPort = await getFreePort();
      const lonely = await startReplica(
        'unreachable',
        env(`postgres://postgres:${DB_PASSWORD}@127.0.0.1:${closedPort}/none`),
      );
      replicas.push(lonely);
      const health = await waitFor(async () => {
        const h = await lonely.health();
        return h?.status === 503 ? h : undefined;
      }, 15_000);
      expect(health.body).toMatchObject({ status: 'unhealthy' });
      expect(JSON.stringify(health.body)).toMatch(/unreachable/);
      expect(JSON.stringify(health.body)).not.toContain(DB_PASSWORD);
      expect(refreshCalls()).toHaveLength(calls);
      killed.add(lonely);
      await lonely.kill();

      const bad = await startReplica('bad-url', env('mysql://root@127.0.0.1/db'));
      killed.add(bad);
      expect(await bad.exited).toBe(2);
      expect(bad.lines.map((l) => String(l.msg)).join('\n')).toContain('IMAGE_WATCH_DATABASE_URL');
    }, 60_000);
  },
);
