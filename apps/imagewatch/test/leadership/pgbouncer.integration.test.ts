/**
 * The pgbouncer verdict against the real thing (Debian's pgbouncer, `pool_mode = transaction`),
 * where the machine has it; skipped elsewhere (it is not one of the required real parts).
 * Replicas whose URL points at pgbouncer in transaction mode must refuse leadership rather
 * than believe in a session lock that lives on a pooled server connection.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  findBinary,
  getFreePort,
  POSTGRES_BINARIES,
  type Postgres,
  realPartsGate,
  startPostgres,
} from '@molecule/real-parts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Leadership } from '../../src/leadership/leadership.js';
import { createPostgresLeadership } from '../../src/leadership/postgres-leadership.js';
import { memoryLogger, waitFor } from '../helpers.js';

const gate = realPartsGate(POSTGRES_BINARIES);
/** Searched on PATH and the sbin directories, where Debian puts it. */
const pgbouncer = findBinary('pgbouncer');
const RETRY_MS = 300;

async function startPgbouncer(upstreamPort: number, poolMode: 'transaction' | 'session') {
  const dir = await mkdtemp('/tmp/iw-pgbouncer-');
  await chmod(dir, 0o777);
  const port = await getFreePort();
  await writeFile(join(dir, 'userlist.txt'), '"postgres" ""\n');
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=127.0.0.1 port=${upstreamPort}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `pool_mode = ${poolMode}`,
      'default_pool_size = 20',
      // pg sends these as startup parameters; pgbouncer 1.18 refuses unknown ones.
      'ignore_startup_parameters = statement_timeout, idle_in_transaction_session_timeout, extra_float_digits',
      '',
    ].join('\n'),
  );
  // pgbouncer refuses to run as root.
  const asPostgres =
    process.getuid?.() === 0 ? ['--reuid=postgres', '--regid=postgres', '--init-groups', '--'] : [];
  const child: ChildProcess = spawn(
    asPostgres.length > 0 ? 'setpriv' : pgbouncer!,
    [...(asPostgres.length > 0 ? [...asPostgres, pgbouncer!] : []), join(dir, 'pgbouncer.ini')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  await waitFor(() => /process up/.test(stderr) || child.exitCode !== null, 10_000);
  if (child.exitCode !== null) throw new Error(`pgbouncer exited: ${stderr.slice(-500)}`);
  return {
    port,
    async close() {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe.skipIf(gate.skip || pgbouncer === undefined)(
  `leadership through pgbouncer ${gate.reason ?? (pgbouncer === undefined ? '(skipped: no pgbouncer)' : '')}`,
  () => {
    let server: Postgres;
    beforeAll(async () => {
      server = await startPostgres();
    });
    afterAll(async () => server?.close());

    async function replicas(url: string, count: number) {
      const log = memoryLogger();
      const all: Leadership[] = [];
      for (let n = 0; n < count; n++) {
        all.push(
          createPostgresLeadership({
            url,
            retryMs: RETRY_MS,
            queryTimeoutMs: 1_000,
            logger: log.logger,
            replicaId: `r${n}`,
          }),
        );
      }
      for (const l of all) l.start();
      return { all, log };
    }

    it('transaction mode: every replica refuses leadership, and says why', async () => {
      const bouncer = await startPgbouncer(server.port, 'transaction');
      const { all, log } = await replicas(
        `postgres://postgres@127.0.0.1:${bouncer.port}/postgres`,
        3,
      );
      const everLeader = new Set<number>();
      all.forEach((l, n) => {
        l.onChange((leader) => {
          if (leader) everLeader.add(n);
        });
      });
      try {
        await waitFor(() => all.every((l) => /pgbouncer/.test(l.health().reason ?? '')), 10_000);
        console.log(
          `pgbouncer transaction mode: replicas that ever reported leader: ${everLeader.size} of 3; all refuse`,
        );
        expect(all.every((l) => !l.isLeader())).toBe(true);
        // Refused before a takeover was ever reported: no refresh call was possible.
        expect(everLeader.size).toBe(0);
        expect(log.lines().filter((line) => line.msg === 'refusing leadership')).toHaveLength(3);
      } finally {
        await Promise.all(all.map((l) => l.stop()));
        await bouncer.close();
      }
    });

    it('session mode works like a direct connection: one leader', async () => {
      const bouncer = await startPgbouncer(server.port, 'session');
      const { all } = await replicas(`postgres://postgres@127.0.0.1:${bouncer.port}/postgres`, 3);
      try {
        await waitFor(() => all.filter((l) => l.isLeader()).length === 1, 5_000);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS * 3));
        expect(all.filter((l) => l.isLeader())).toHaveLength(1);
        expect(all.map((l) => l.health())).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      } finally {
        await Promise.all(all.map((l) => l.stop()));
        await bouncer.close();
      }
    });
  },
);
