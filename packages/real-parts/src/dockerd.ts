import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { RealPartsError } from './errors.js';
import {
  hasExited,
  removeDir,
  runCommand,
  spawnLogged,
  tailFile,
  terminate,
  waitUntil,
} from './process.js';

export interface Dockerd {
  /** The private unix socket, for `new Docker({ socketPath })`. */
  socketPath: string;
  /** `unix://<socketPath>`, for DOCKER_HOST. */
  dockerHost: string;
  /** Engine API version from GET /version, e.g. '1.41'. */
  apiVersion: string;
  dir: string;
  logFile: string;
  /** pid of the dockerd process (the current one, after a restart) */
  readonly pid: number;
  /**
   * Stops the engine as an operator's `systemctl stop docker` would (its containers stop),
   * keeping its data: images and containers are there again after `start()`.
   */
  stop(): Promise<void>;
  /** Starts the stopped engine again on the same socket and data root. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface DockerdOptions {
  /** Added to `--insecure-registry 127.0.0.0/8` (loopback registries speak plain http). */
  insecureRegistries?: string[];
}

const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;

/**
 * One request over the engine's unix socket; undefined when nothing answers. Plain node:http
 * so the harness does not depend on a Docker client library.
 */
export function socketRequest(
  socketPath: string,
  method: string,
  path: string,
  timeoutMs = 2_000,
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path, method, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** GET over the engine's unix socket (see {@link socketRequest}). */
export function socketGet(socketPath: string, path: string, timeoutMs = 2_000) {
  return socketRequest(socketPath, 'GET', path, timeoutMs);
}

/**
 * Stop running containers with a 1 s grace before the engine goes down: its own shutdown
 * waits out each container's stop timeout (10 s by default).
 */
async function stopContainers(socketPath: string): Promise<void> {
  const list = await socketGet(socketPath, '/containers/json');
  if (list?.status !== 200) return;
  const ids = (JSON.parse(list.body) as { Id: string }[]).map((container) => container.Id);
  await Promise.all(
    ids.map((id) => socketRequest(socketPath, 'POST', `/containers/${id}/stop?t=1`, 10_000)),
  );
}

/** Mount points below `dir` (deepest first), from /proc/self/mountinfo. */
async function mountsUnder(dir: string): Promise<string[]> {
  try {
    const info = await readFile('/proc/self/mountinfo', 'utf8');
    return info
      .split('\n')
      .map((line) => line.split(' ')[4] ?? '')
      .map((path) => path.replace(/\\040/g, ' '))
      .filter((path) => path === dir || path.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
  } catch {
    return [];
  }
}

async function killPidFile(path: string): Promise<void> {
  try {
    const pid = Number.parseInt(await readFile(path, 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 1) process.kill(pid, 'SIGKILL');
  } catch {
    // no pid file or process already gone
  }
}

async function cleanUp(dir: string): Promise<void> {
  // The engine's own containerd outlives a SIGKILLed dockerd.
  await killPidFile(join(dir, 'exec', 'containerd', 'containerd.pid'));
  for (const mount of await mountsUnder(dir)) {
    await runCommand('umount', ['-l', mount]).catch(() => undefined);
  }
  await removeDir(dir);
}

/**
 * Start a private Docker engine: its own socket, data root, exec root and pid file in a short
 * temp dir (unix socket paths must stay under ~100 chars), no bridge, no iptables, vfs.
 * Several can run at once.
 *
 * @example
 * const engine = await startDockerd({ insecureRegistries: [registry.host] });
 * const docker = new Docker({ socketPath: engine.socketPath });
 */
export async function startDockerd(options: DockerdOptions = {}): Promise<Dockerd> {
  // /tmp, not os.tmpdir(): TMPDIR may be long, and containerd's sockets live below exec-root.
  const dir = await mkdtemp('/tmp/rpd-');
  const socketPath = join(dir, 'docker.sock');
  const logFile = join(dir, 'dockerd.log');
  const configFile = join(dir, 'daemon.json');
  const insecure = ['127.0.0.0/8', ...(options.insecureRegistries ?? [])];
  const args = [
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
    '--storage-driver=vfs',
    '--host',
    `unix://${socketPath}`,
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'docker.pid'),
    // Containers that ignore SIGTERM are killed after 5 s, well inside close()'s 15 s grace.
    '--shutdown-timeout=5',
    '--config-file',
    configFile,
    ...insecure.flatMap((registry) => ['--insecure-registry', registry]),
  ];

  /** Spawns dockerd and waits until it answers `_ping`; kills it when it does not. */
  async function launch(): Promise<ChildProcess> {
    const child = await spawnLogged('dockerd', args, {
      logFile,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir },
      cwd: dir,
    });
    const ready = await waitUntil(
      async () => (await socketGet(socketPath, '/_ping'))?.status === 200,
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, abortIf: () => hasExited(child) },
    );
    if (!ready) {
      const exit = child.exitCode ?? child.signalCode ?? 'none';
      await terminate(child, 5_000);
      throw new RealPartsError(
        'START_FAILED',
        `dockerd did not answer GET /_ping on ${socketPath} within ${START_TIMEOUT_MS} ms` +
          ` (exit ${exit}); log tail:\n${await tailFile(logFile)}`,
      );
    }
    return child;
  }

  let current: ChildProcess | undefined;
  try {
    await Promise.all([mkdir(join(dir, 'data')), mkdir(join(dir, 'exec'))]);
    // An empty config of our own: /etc/docker/daemon.json must not leak into the test engine.
    await writeFile(configFile, '{}\n');
    current = await launch();
    const version = await socketGet(socketPath, '/version');
    const apiVersion = version
      ? (JSON.parse(version.body) as { ApiVersion?: string }).ApiVersion
      : undefined;
    if (!apiVersion) {
      throw new RealPartsError(
        'START_FAILED',
        `dockerd on ${socketPath}: GET /version gave no ApiVersion`,
      );
    }
    let closing: Promise<void> | undefined;
    const stopEngine = async () => {
      const running = current;
      if (running === undefined || hasExited(running)) return;
      await stopContainers(socketPath);
      await terminate(running, STOP_GRACE_MS);
    };
    return {
      socketPath,
      dockerHost: `unix://${socketPath}`,
      apiVersion,
      dir,
      logFile,
      get pid() {
        return current?.pid ?? 0;
      },
      stop: stopEngine,
      async start() {
        if (closing !== undefined) throw new RealPartsError('START_FAILED', 'dockerd is closed');
        if (current !== undefined && !hasExited(current)) return;
        current = await launch();
      },
      close: () => {
        closing ??= (async () => {
          await stopEngine();
          await cleanUp(dir);
        })();
        return closing;
      },
    };
  } catch (error) {
    if (current) await terminate(current, 5_000);
    await cleanUp(dir);
    throw error;
  }
}
