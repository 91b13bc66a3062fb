import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Client as PgClient } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { realPartsGate } from './binaries.js';
import { isRealPartsError } from './errors.js';
import { POSTGRES_BINARIES, type Postgres, startPostgres } from './postgres.js';

const gate = realPartsGate(POSTGRES_BINARIES);

// Not `import pg from 'pg'`: vitest hands the shared config's ssr.resolve.conditions to node
// as --conditions, 'import' among them, so pg's require('pg-pool') loads pg-pool's ESM build
// (Node 20.19+ require(esm)) and pg's entry dies on `class extends Pool`. The client alone
// does not touch pg-pool.
const Client = createRequire(import.meta.url)('pg/lib/client.js') as typeof PgClient;

/** Gone, or a zombie nobody reaped yet (PID 1 of a container may never reap). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe.skipIf(gate.skip)(`startPostgres ${gate.reason ?? ''}`, () => {
  let server: Postgres;
  const clients: PgClient[] = [];

  /** A connected client whose connection errors (server stopped, backend terminated) are kept. */
  async function connect(url = server.url): Promise<PgClient & { errors: Error[] }> {
    const client = Object.assign(new Client({ connectionString: url }), {
      errors: [] as Error[],
    });
    // an unhandled 'error' on a client whose server went away would crash the worker
    client.on('error', (error) => client.errors.push(error));
    await client.connect();
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.end().catch(() => undefined)));
  });
  afterAll(() => server?.close());

  it('answers select 1 on its loopback URL, with data and socket dirs of its own', async () => {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const client = await connect();
    const { rows } = await client.query<{ one: number; version: string }>(
      'select 1 as one, current_setting($1) as version',
      ['server_version_num'],
    );
    expect(rows[0]?.one).toBe(1);
    expect(Number(rows[0]?.version)).toBeGreaterThanOrEqual(150000);
    expect(existsSync(join(server.socketDir, `.s.PGSQL.${server.port}`))).toBe(true);
    expect(statSync(server.dataDir).mode & 0o777).toBe(0o700);
    const settings = await client.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings where name in ('fsync', 'listen_addresses')`,
    );
    expect(Object.fromEntries(settings.rows.map((row) => [row.name, row.setting]))).toEqual({
      fsync: 'off',
      listen_addresses: '127.0.0.1',
    });
  });

  it('creates a database and answers its URL', async () => {
    const url = await server.createDatabase('leader-election');
    expect(url).toBe(`postgres://postgres@127.0.0.1:${server.port}/leader-election`);
    const client = await connect(url);
    const { rows } = await client.query<{ db: string }>('select current_database() as db');
    expect(rows[0]?.db).toBe('leader-election');
  });

  it('keeps its data across stop() and start() on the same port', async () => {
    const before = await connect();
    await before.query('create table kept (n int)');
    await before.query('insert into kept values (1), (2)');
    const firstPid = server.pid;

    await server.stop();
    expect(gone(firstPid)).toBe(true);
    expect(existsSync(join(server.dataDir, 'postmaster.pid'))).toBe(false);
    // fast shutdown terminates the session: the client learns it on its next query at the latest
    expect(await errorOf(before.query('select 1'))).toBeInstanceOf(Error);
    expect(await errorOf(connect())).toMatchObject({ code: 'ECONNREFUSED' });

    await server.start();
    expect(server.pid).not.toBe(firstPid);
    const after = await connect();
    const { rows } = await after.query<{ n: number }>('select n from kept order by n');
    expect(rows.map((row) => row.n)).toEqual([1, 2]);
  });

  it('kill() drops the server at once; start() recovers committed data', async () => {
    const client = await connect();
    await client.query('create table crashed (n int)');
    await client.query('insert into crashed values (7)');
    const killedPid = server.pid;

    await server.kill();
    expect(gone(killedPid)).toBe(true);
    expect(await errorOf(client.query('select 1'))).toBeInstanceOf(Error);

    await server.start();
    const after = await connect();
    const { rows } = await after.query<{ n: number }>('select n from crashed');
    expect(rows).toEqual([{ n: 7 }]);
    expect(readFileSync(server.logFile, 'utf8')).toMatch(/not properly shut down/);
  });

  it('a session advisory lock is refused to another session until its holder is terminated', async () => {
    const holder = await connect();
    const other = await connect();
    const tryLock = async (client: PgClient) =>
      (
        await client.query<{ locked: boolean }>(
          'select pg_try_advisory_lock($1::bigint) as locked',
          [4242],
        )
      ).rows[0]?.locked;

    expect(await tryLock(holder)).toBe(true);
    expect(await tryLock(holder)).toBe(true); // re-entrant
    expect(await tryLock(other)).toBe(false);
    // a rollback does not release a session-level lock
    await holder.query('begin');
    await holder.query('rollback');
    expect(await tryLock(other)).toBe(false);
    const { rows: held } = await holder.query<{ count: string }>(
      `select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()`,
    );
    expect(held[0]?.count).toBe('1');

    const holderPid = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid'))
      .rows[0]?.pid;
    // The timeout (ms, PostgreSQL 14+) makes it wait for the backend to exit, which is when
    // the lock goes; without it the call returns once the signal is sent.
    const { rows: terminated } = await other.query<{ ok: boolean }>(
      'select pg_terminate_backend($1, 5000) as ok',
      [holderPid],
    );
    expect(terminated[0]?.ok).toBe(true);
    expect(await tryLock(other)).toBe(true);
    // the old holder learns it only when it next talks to the server
    expect(await errorOf(holder.query('select 1'))).toBeInstanceOf(Error);
  });

  it('close() stops the server and removes its dirs; start() afterwards fails', async () => {
    const own = await startPostgres({ settings: { max_connections: 7 } });
    const client = await connect(own.url);
    const { rows } = await client.query<{ max_connections: string }>('show max_connections');
    expect(rows[0]).toEqual({ max_connections: '7' });
    const pid = own.pid;
    await own.close();
    expect(gone(pid)).toBe(true);
    expect(existsSync(own.dir)).toBe(false);
    const error = await errorOf(own.start());
    expect(isRealPartsError(error) && error.code).toBe('START_FAILED');
    await own.close(); // idempotent
  });

  it('rejects a setting name that is not one', async () => {
    const error = await errorOf(startPostgres({ settings: { 'fsync=on -c x': 1 } }));
    expect(isRealPartsError(error) && error.code).toBe('INVALID_OPTIONS');
  });
});

describe.skipIf(gate.skip)(`a test process killed by SIGKILL ${gate.reason ?? ''}`, () => {
  it('takes its PostgreSQL server down with it (pdeathsig on the postmaster)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-pg-orphan-'));
    const script = join(dir, 'start.mts');
    const postgres = fileURLToPath(new URL('./postgres.ts', import.meta.url));
    await writeFile(
      script,
      `import { startPostgres } from ${JSON.stringify(postgres)};
const server = await startPostgres();
console.log(JSON.stringify({ pid: server.pid, dir: server.dir, port: server.port }));
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let started: { pid: number; dir: string; port: number } | undefined;
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (out.includes('\n')) resolve(out.trim());
        });
        child.once('exit', (code) => reject(new Error(`start script exited with ${code}`)));
      });
      started = JSON.parse(line) as { pid: number; dir: string; port: number };
      expect(gone(started.pid)).toBe(false);
      child.kill('SIGKILL');
      const deadline = Date.now() + 10_000;
      while (!gone(started.pid) && Date.now() < deadline) await delay(100);
      expect(gone(started.pid)).toBe(true);
      // a fast shutdown, not a crash: the log says so and the pid file is gone
      const log = readFileSync(join(started.dir, 'postgres.log'), 'utf8');
      expect(log).toMatch(/received fast shutdown request/);
      expect(log).toMatch(/database system is shut down/);
    } finally {
      child.kill('SIGKILL');
      if (started && !gone(started.pid)) process.kill(started.pid, 'SIGKILL');
      if (started) await rm(started.dir, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
