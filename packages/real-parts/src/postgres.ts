import { type ChildProcess, execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary, missingRealParts } from './binaries.js';
import { RealPartsError } from './errors.js';
import {
  getFreePort,
  hasExited,
  removeDir,
  spawnLogged,
  tailFile,
  waitForExit,
  waitUntil,
} from './process.js';

/** What {@link startPostgres} runs; pass to `realPartsGate` (initdb, postgres: postgresql-15). */
export const POSTGRES_BINARIES: readonly string[] = ['initdb', 'postgres', 'setpriv'];

export type PostgresSetting = string | number | boolean;

export interface PostgresOptions {
  /**
   * Extra server settings, each passed as `-c name=value`, e.g.
   * `{ max_connections: 20, idle_session_timeout: '5s' }`. They override the defaults
   * (`listen_addresses=127.0.0.1`, `fsync=off`, `dynamic_shared_memory_type=mmap`).
   */
  settings?: Readonly<Record<string, PostgresSetting>>;
}

export interface Postgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (superuser `postgres`, trust auth) */
  url: string;
  port: number;
  /** The private temp dir holding data/, sock/ and postgres.log (removed by close). */
  dir: string;
  dataDir: string;
  /** Unix socket directory (`-k`): `<socketDir>/.s.PGSQL.<port>` */
  socketDir: string;
  logFile: string;
  /** The PostgreSQL bin dir in use, e.g. `/usr/lib/postgresql/15/bin` (psql, pg_dump, ...). */
  binDir: string;
  /** pid of the postmaster last started; a new one after each start(). */
  readonly pid: number;
  /** `CREATE DATABASE` (through `createdb`); resolves to its URL. */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown, as `pg_ctl -m fast stop`: sessions are terminated, a checkpoint is written. */
  stop(): Promise<void>;
  /** Start again on the same data dir and port (after stop() or kill()); no-op when running. */
  start(): Promise<void>;
  /**
   * SIGKILL the postmaster and every server process at once, as an OOM kill or a killed
   * container would: clients see the connection drop with no message; the next start()
   * runs crash recovery (committed data survives: fsync is off, but the OS still has it).
   */
  kill(): Promise<void>;
  /** stop() and remove the temp dir. */
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 3;
const STOP_GRACE_MS = 15_000;
/** initdb refuses to run as root and the server refuses root too: root runs them as this user. */
const SERVER_USER = 'postgres';
const SUPERUSER = 'postgres';
const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/i;

const isRoot = () => process.getuid?.() === 0;
const execFileAsync = promisify(execFile);

/**
 * Run a short command, writing nothing to its stdin. Not process.ts's runCommand: it writes
 * to the child's stdin, and a command that exits before reading it (install, createdb) can
 * make that write fail with an unhandled EPIPE.
 */
async function run(command: string, args: string[], cwd?: string): Promise<void> {
  try {
    await execFileAsync(command, args, { cwd, timeout: 60_000 });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '')
      .trim()
      .slice(0, 500);
    throw new RealPartsError('COMMAND_FAILED', `${command} failed: ${stderr}`, { cause: error });
  }
}

/** setpriv arguments that drop to the server user when we are root; nothing otherwise. */
function asServerUser(): string[] {
  return isRoot() ? [`--reuid=${SERVER_USER}`, `--regid=${SERVER_USER}`, '--init-groups'] : [];
}

function settingArgs(settings: Readonly<Record<string, PostgresSetting>>): string[] {
  return Object.entries(settings).flatMap(([name, value]) => {
    if (!SETTING_NAME.test(name)) {
      throw new RealPartsError('INVALID_OPTIONS', `invalid PostgreSQL setting name ${name}`);
    }
    const text = typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
    return ['-c', `${name}=${text}`];
  });
}

/**
 * Lines of `postmaster.pid`: pid, data dir, start time, port, socket dir, listen address,
 * shared memory key and id, status (`starting`, `ready`, `stopping`). pg_ctl -w waits on
 * the same status line.
 * https://www.postgresql.org/docs/15/storage-file-layout.html
 */
async function readPidFile(dataDir: string): Promise<string[]> {
  try {
    return (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return [];
  }
}

async function isReady(dataDir: string, pid: number | undefined): Promise<boolean> {
  const lines = await readPidFile(dataDir);
  // The pid check skips the stale file a killed server leaves behind (it says 'ready').
  return lines[0] === String(pid) && lines[7]?.trim() === 'ready';
}

/** Fields of /proc/<pid>/stat after the command name: state, ppid, ...; undefined if gone. */
async function procStat(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // the command name is in parentheses and may itself hold spaces or parentheses
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

async function childPids(parent: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).map(Number);
  const stats = await Promise.all(pids.map(async (pid) => [pid, await procStat(pid)] as const));
  return stats.filter(([, stat]) => stat?.[1] === String(parent)).map(([pid]) => pid);
}

/** Gone or a zombie (whose memory, shared memory included, is already released). */
async function isGone(pid: number): Promise<boolean> {
  const stat = await procStat(pid);
  return stat === undefined || stat[0] === 'Z';
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** SIGINT is fast shutdown (what `pg_ctl -m fast stop` sends), SIGQUIT immediate, then KILL. */
async function shutdown(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGINT');
  if (await waitForExit(child, STOP_GRACE_MS)) return;
  child.kill('SIGQUIT');
  if (await waitForExit(child, 5_000)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 5_000);
}

/**
 * Kill the whole server. Backends are children of the postmaster but each in its own
 * session, so no process group reaches them: stop the postmaster (it can fork no new
 * backend then), list its children, SIGKILL them all. A killed server leaves its small
 * SysV interlock segment behind (a restart would reuse it); remove it so close() leaks nothing.
 */
async function crash(child: ChildProcess, dataDir: string): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || hasExited(child)) return;
  signal(pid, 'SIGSTOP');
  const children = await childPids(pid);
  for (const target of [pid, ...children]) signal(target, 'SIGKILL');
  await waitForExit(child, 5_000);
  await waitUntil(async () => (await Promise.all(children.map(isGone))).every(Boolean), {
    timeoutMs: 5_000,
  });
  const shmId = (await readPidFile(dataDir))[6]?.trim().split(/\s+/)[1];
  if (shmId && /^\d+$/.test(shmId)) {
    await run('ipcrm', ['-m', shmId]).catch(() => undefined);
  }
}

/**
 * Start a private PostgreSQL server (Debian's postgresql-15 here) on a free loopback port,
 * with its own data dir (initdb, trust auth, superuser `postgres`) and socket dir in a temp
 * dir, leaving any system cluster alone.
 *
 * The server cannot outlive the test process, even one killed by SIGKILL: `postgres` runs in
 * the foreground as our direct child (no `pg_ctl start`, which forks the postmaster off to
 * init, so a parent-death signal on pg_ctl never reaches it), started through
 * `setpriv --reuid=postgres ... --pdeathsig INT`. setpriv sets the parent-death signal after
 * dropping privileges (the kernel clears it on a uid change) and execs, so the postmaster
 * itself gets SIGINT (fast shutdown: sessions terminated, clean checkpoint, shared memory
 * released) when the test process dies (spawnLogged wraps it in its own
 * `setpriv --pdeathsig TERM`, a smart shutdown; the inner setpriv's INT replaces that). The
 * 'exit' hook of spawnLogged still SIGTERMs it on a normal exit without close(). Readiness
 * is the `ready` status in postmaster.pid, which is what `pg_ctl -w` waits for.
 *
 * @example
 * const server = await startPostgres();
 * try {
 *   const client = new Client({ connectionString: await server.createDatabase('app') });
 * } finally { await server.close(); }
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  const missing = missingRealParts(POSTGRES_BINARIES);
  const initdb = findBinary('initdb');
  const setpriv = findBinary('setpriv');
  if (missing || !initdb || !setpriv) {
    throw new RealPartsError('MISSING_BINARY', `cannot start PostgreSQL: ${missing}`);
  }
  // initdb and postgres of one installation: the real bin dir of initdb (PATH may hold a
  // symlink to it, as this machine's /usr/local/bin/initdb is).
  const binDir = dirname(await realpath(initdb));
  const postgresBinary = join(binDir, 'postgres');
  const settings = {
    listen_addresses: '127.0.0.1',
    fsync: false,
    // DSM segments as files under the data dir, not in /dev/shm (small in containers, and
    // left behind by a killed server); a start removes stale ones.
    dynamic_shared_memory_type: 'mmap',
    ...options.settings,
  };
  const extraArgs = settingArgs(settings);

  // /tmp, not os.tmpdir(): the socket path must stay under ~100 chars.
  const dir = await mkdtemp('/tmp/rp-pg-');
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  const logFile = join(dir, 'postgres.log');
  let current: ChildProcess | undefined;

  const launch = async (port: number): Promise<ChildProcess> => {
    const args = ['-D', dataDir, '-p', String(port), '-k', socketDir, ...extraArgs];
    const child = await spawnLogged(
      setpriv,
      [...asServerUser(), '--pdeathsig', 'INT', '--', postgresBinary, ...args],
      { logFile, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: dir },
    );
    const ready = await waitUntil(() => isReady(dataDir, child.pid), {
      timeoutMs: START_TIMEOUT_MS,
      abortIf: () => hasExited(child),
    });
    if (ready) return child;
    await shutdown(child);
    throw new RealPartsError(
      'START_FAILED',
      `postgres on 127.0.0.1:${port} was not ready within ${START_TIMEOUT_MS} ms` +
        ` (exit ${child.exitCode ?? child.signalCode ?? 'none'}); log tail:\n${await tailFile(logFile)}`,
    );
  };

  try {
    if (isRoot()) {
      // the server user must reach data/ and sock/ below our 0700 temp dir
      await chmod(dir, 0o755);
      const owner = ['-o', SERVER_USER, '-g', SERVER_USER];
      await run('install', ['-d', '-m', '0700', ...owner, dataDir]);
      await run('install', ['-d', '-m', '0755', ...owner, socketDir]);
    } else {
      await mkdir(dataDir, { mode: 0o700 });
      await mkdir(socketDir, { mode: 0o755 });
    }
    await run(
      setpriv,
      [
        ...asServerUser(),
        '--',
        initdb,
        ...['-D', dataDir, '-A', 'trust', '-U', SUPERUSER, '--no-sync'],
        // C collation and UTF-8: the same on every machine, whatever LANG says
        ...['--encoding=UTF8', '--locale=C'],
      ],
      dir,
    );

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await getFreePort();
      try {
        current = await launch(port);
        break;
      } catch (error) {
        const lostPortRace = /address already in use/i.test(await tailFile(logFile));
        if (attempt >= START_ATTEMPTS || !lostPortRace) throw error;
      }
    }

    let lastPid = current.pid ?? 0;
    let closed = false;
    let closing: Promise<void> | undefined;
    // start/stop/kill/close run one at a time, in call order
    let queue: Promise<unknown> = Promise.resolve();
    const serial = <T>(task: () => Promise<T>): Promise<T> => {
      const run = queue.then(task);
      queue = run.catch(() => undefined);
      return run;
    };
    const running = () => current !== undefined && !hasExited(current);

    return {
      url: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`,
      port,
      dir,
      dataDir,
      socketDir,
      logFile,
      binDir,
      get pid() {
        return lastPid;
      },
      createDatabase: async (name) => {
        await run(join(binDir, 'createdb'), [
          ...['-h', socketDir, '-p', String(port), '-U', SUPERUSER, '--', name],
        ]);
        return `postgres://${SUPERUSER}@127.0.0.1:${port}/${encodeURIComponent(name)}`;
      },
      stop: () =>
        serial(async () => {
          if (current) await shutdown(current);
        }),
      start: () =>
        serial(async () => {
          if (closed) throw new RealPartsError('START_FAILED', `postgres in ${dir} is closed`);
          if (running()) return;
          current = await launch(port);
          lastPid = current.pid ?? 0;
        }),
      kill: () =>
        serial(async () => {
          if (current) await crash(current, dataDir);
        }),
      close: () => {
        closing ??= serial(async () => {
          closed = true;
          if (current) await shutdown(current);
          await removeDir(dir);
        });
        return closing;
      },
    };
  } catch (error) {
    if (current) await shutdown(current);
    await removeDir(dir);
    throw error;
  }
}
