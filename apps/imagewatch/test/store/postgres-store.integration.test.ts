/**
 * The PostgreSQL store against a real PostgreSQL 15 (one server per test file, a database per
 * test): the same contract as the state file, migrations when replicas start at once, the
 * one-time import of a state file, and an outage (the server stopped, then started again).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  POSTGRES_BINARIES,
  type Postgres,
  realPartsGate,
  startPostgres,
} from '@molecule/real-parts';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importStateFile } from '../../src/store/import-state-file.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres-store.js';
import { isStoreError, isStoreUnavailableError } from '../../src/store/store-errors.js';
import { memoryLogger, sha, tempDir } from '../helpers.js';
import { REF, rolloutAt, STORE_CONTRACT_CASES, type StoreHarness, T } from './store-contract.js';

const gate = realPartsGate(POSTGRES_BINARIES);
/** Trust auth accepts any password: a URL carrying one shows that none leaks. */
const PASSWORD = 'pg-s3cret-never-logged';

describe.skipIf(gate.skip)(`PostgreSQL store ${gate.reason ?? ''}`, () => {
  let server: Postgres;
  let url: string;
  let databases = 0;
  const stores: PostgresStore[] = [];
  const log = memoryLogger();
  let dir: string;
  let cleanup: () => Promise<void>;

  const withPassword = (plain: string) => plain.replace('postgres@', `postgres:${PASSWORD}@`);
  function store(options: { now?: () => Date; queryTimeoutMs?: number; at?: string } = {}) {
    const created = createPostgresStore({
      url: options.at ?? url,
      logger: log.logger,
      queryTimeoutMs: options.queryTimeoutMs ?? 5_000,
      probeIntervalMs: 100,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    stores.push(created);
    return created;
  }
  async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    server = await startPostgres();
  });
  beforeEach(async () => {
    url = withPassword(await server.createDatabase(`store_${++databases}`));
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await cleanup();
  });
  afterAll(async () => {
    await server?.close();
    // Nothing the store logged carries the password.
    expect(log.text()).not.toContain(PASSWORD);
  });

  describe('the store contract', () => {
    const harness: StoreHarness = {
      async open(now) {
        const opened = store({ now });
        await opened.open();
        return opened;
      },
      async reopen() {
        const opened = store();
        await opened.open();
        return opened;
      },
    };
    for (const { name, run } of STORE_CONTRACT_CASES) it(name, () => run(harness));
  });

  it('three replicas opening one empty database at once create the schema once', async () => {
    const replicas = [store(), store(), store()];
    const outcomes = await Promise.all(replicas.map((r) => r.open()));
    expect(outcomes).toEqual([{ kind: 'fresh' }, { kind: 'fresh' }, { kind: 'fresh' }]);
    const rows = await sql<{ version: number }>(
      'SELECT version FROM imagewatch_schema_migrations ORDER BY version',
    );
    expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((m) => m.version));
    // Opening again applies nothing, and sees what the others wrote.
    await replicas[0]!.commit({ seen: { image: REF, digest: sha(1) } });
    expect(await store().open()).toEqual({ kind: 'loaded', images: 1, rollouts: 0 });
  });

  it('two replicas racing on one rollout version: exactly one commit wins', async () => {
    const [a, b] = [store(), store()];
    await a.open();
    await b.open();
    const r = rolloutAt('r-race', T);
    await a.commit({ create: [r] });
    for (let round = 0; round < 10; round++) {
      const current = (await a.getRollout('r-race'))!;
      const next = (state: 'halted' | 'running') => ({
        ...current,
        state,
        version: current.version + 1,
      });
      const results = await Promise.all([
        a.commit({ update: [next('halted')] }),
        b.commit({ update: [next('running')] }),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await b.getRollout('r-race'))?.version).toBe(current.version + 1);
    }
  });

  it('epoch: the database value before any takeover, the adopted one after', async () => {
    const first = store();
    await first.open();
    expect(first.epoch()).toBe(0);
    await sql('UPDATE imagewatch_leader SET epoch = 41');
    const second = store();
    await second.open();
    expect(second.epoch()).toBe(41);
    second.adoptEpoch(42);
    expect(second.epoch()).toBe(42);
  });

  it('describe() names the database without its password', async () => {
    const s = store();
    expect(s.describe()).toBe(url.replace(`:${PASSWORD}`, ''));
    expect(s.describe()).not.toContain(PASSWORD);
  });

  it('a row that is not a rollout is a STORE_BAD_DATA error, not a crash', async () => {
    const s = store();
    await s.open();
    await sql(
      `INSERT INTO imagewatch_rollouts (id, runtime, state, created_at, updated_at, version, rollout)
       VALUES ('r-bad', 'codex', 'running', now(), now(), 0, '{"id": "r-bad"}')`,
    );
    const error = await s.getRollout('r-bad').catch((e: unknown) => e);
    expect(isStoreError(error) && error.code).toBe('STORE_BAD_DATA');
  });

  describe('importing the state file', () => {
    const r1 = rolloutAt('r-imported', T, { state: 'halted', version: 3 });
    const v2 = {
      version: 2,
      epoch: 7,
      images: { [REF]: { digest: sha(5), seenAt: T.toISOString() } },
      rollouts: [r1],
    };

    it('imports a version 2 file into an empty database once, and raises the epoch', async () => {
      const file = join(dir, 'state.json');
      await writeFile(file, JSON.stringify(v2));
      const s = store();
      await s.open();
      expect(await importStateFile(s, file, { logger: log.logger })).toEqual({
        kind: 'imported',
        file,
        fromVersion: 2,
        images: 1,
        rollouts: 1,
        epoch: 7,
      });
      expect(await s.seenDigest(REF)).toEqual(v2.images[REF]);
      expect(await s.getRollout('r-imported')).toEqual(r1);
      expect((await s.activeRollouts()).map((r) => r.id)).toEqual(['r-imported']);
      // admin-api remembers epoch 7 from the file store's days: ours never goes back.
      expect(s.epoch()).toBe(7);
      expect((await sql<{ epoch: string }>('SELECT epoch FROM imagewatch_leader'))[0]?.epoch).toBe(
        '7',
      );
      // Idempotent: the database holds state now, the file is not even read again.
      let reads = 0;
      const again = await importStateFile(s, file, {
        logger: log.logger,
        readFile: async () => {
          reads += 1;
          return '';
        },
      });
      expect(again).toEqual({ kind: 'skipped', reason: 'not-empty' });
      expect(reads).toBe(0);
    });

    it('imports a version 1 file (seen digests only)', async () => {
      const file = join(dir, 'state.json');
      await writeFile(
        file,
        JSON.stringify({
          version: 1,
          images: { [REF]: { digest: sha(6), seenAt: T.toISOString() } },
        }),
      );
      const s = store();
      await s.open();
      expect(await importStateFile(s, file, { logger: log.logger })).toMatchObject({
        kind: 'imported',
        fromVersion: 1,
        images: 1,
        rollouts: 0,
      });
      expect((await s.seenDigest(REF))?.digest).toBe(sha(6));
    });

    it('imports nothing into a database that holds state, and exactly once when replicas race', async () => {
      const file = join(dir, 'state.json');
      await writeFile(file, JSON.stringify(v2));
      const replicas = [store(), store(), store()];
      await Promise.all(replicas.map((r) => r.open()));
      const results = await Promise.all(
        replicas.map((r) => importStateFile(r, file, { logger: log.logger })),
      );
      expect(results.filter((r) => r.kind === 'imported')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'skipped')).toHaveLength(2);

      const other = withPassword(await server.createDatabase(`store_${++databases}`));
      const busy = store({ at: other });
      await busy.open();
      await busy.commit({ seen: { image: REF, digest: sha(8) } });
      expect(await importStateFile(busy, file, { logger: log.logger })).toEqual({
        kind: 'skipped',
        reason: 'not-empty',
      });
      expect((await busy.seenDigest(REF))?.digest).toBe(sha(8));
      expect(await busy.getRollout('r-imported')).toBeUndefined();
    });

    it('no file is no import; a file that is not a state file is STATE_FILE_INVALID', async () => {
      const s = store();
      await s.open();
      const missing = join(dir, 'missing.json');
      expect(await importStateFile(s, missing, { logger: log.logger })).toEqual({
        kind: 'no-file',
        file: missing,
      });
      const bad = join(dir, 'bad.json');
      await writeFile(bad, JSON.stringify({ version: 3, images: {} }));
      const error = await importStateFile(s, bad, { logger: log.logger }).catch((e: unknown) => e);
      expect(isStoreError(error) && error.code).toBe('STATE_FILE_INVALID');
      expect(await s.isEmpty()).toBe(true);
    });
  });

  // Last: it stops the shared server for a while.
  it('database stopped: typed errors, degraded health, nothing crashes; back: everything works, nothing lost', async () => {
    const s = store({ queryTimeoutMs: 1_000 });
    await s.open();
    const r = rolloutAt('r-outage', T);
    await s.commit({ seen: { image: REF, digest: sha(1) }, create: [r] });

    await server.stop();
    const attempts = [
      s.seenDigest(REF),
      s.commit({ update: [{ ...r, state: 'halted', version: 1 }] }),
      s.listRollouts(),
      s.activeRollouts(),
      s.getRollout('r-outage'),
      s.commit({ seen: { image: REF, digest: sha(2) } }),
    ];
    for (const attempt of attempts) {
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isStoreUnavailableError(error), String(error)).toBe(true);
      expect(String((error as Error).message)).not.toContain(PASSWORD);
    }
    const health = s.health();
    expect(health.ok).toBe(false);
    expect(health.reason).toMatch(/database unreachable since .*: /);
    expect(health.reason).not.toContain(PASSWORD);
    // Still down a while later, still no crash (the probe keeps failing quietly).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(s.health().ok).toBe(false);

    await server.start();
    // The probe notices without any traffic of ours.
    const deadline = Date.now() + 5_000;
    while (!s.health().ok && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(s.health()).toEqual({ ok: true });
    expect((await s.seenDigest(REF))?.digest).toBe(sha(1));
    expect(await s.getRollout('r-outage')).toEqual(r);
    expect(await s.commit({ update: [{ ...r, state: 'halted', version: 1 }] })).toBe(true);
    expect(await store().open()).toEqual({ kind: 'loaded', images: 1, rollouts: 1 });
  });
});
