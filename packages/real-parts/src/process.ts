import { type ChildProcess, spawn } from 'node:child_process';
import { open, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { findBinary } from './binaries.js';
import { RealPartsError } from './errors.js';

/**
 * A free loopback port: listen on port 0, read the port, close. Another process can take
 * it before we bind it again, so callers retry a start that fails with "address in use".
 */
export async function getFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new RealPartsError('START_FAILED', 'could not read a free loopback port');
  }
  return address.port;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * A test worker that exits without calling close() must not leave a registry or an engine
 * running: SIGTERM what is still alive when the process exits (dockerd then shuts its
 * containerd down by itself; an 'exit' handler cannot wait for that).
 */
function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const live of liveChildren) live.kill('SIGTERM');
  });
}

/**
 * Spawn a long-running process with stdout and stderr appended to `logFile`. Through
 * `setpriv --pdeathsig TERM` when available, so the process also gets SIGTERM when the test
 * process dies by a signal (no 'exit' handler runs then).
 */
export async function spawnLogged(
  command: string,
  args: string[],
  options: { logFile: string; env: NodeJS.ProcessEnv; cwd?: string },
): Promise<ChildProcess> {
  const log = await open(options.logFile, 'a');
  const setpriv = findBinary('setpriv');
  const [file, argv] = setpriv
    ? [setpriv, ['--pdeathsig', 'TERM', command, ...args]]
    : [command, args];
  try {
    const child = spawn(file, argv, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', log.fd, log.fd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) =>
        reject(new RealPartsError('START_FAILED', `cannot run ${command}`, { cause: error })),
      );
    });
    track(child);
    return child;
  } finally {
    await log.close();
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when the child has exited, or false after `timeoutMs`. */
export async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return true;
  const exited = new Promise<true>((resolve) => child.once('exit', () => resolve(true)));
  const timer = delay(timeoutMs, false as const, { ref: false });
  return Promise.race([exited, timer]);
}

/** SIGTERM, then SIGKILL when the process is still there after `graceMs`. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 5_000);
}

/** Last `lines` lines of a log file, for error messages; empty when unreadable. */
export async function tailFile(path: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Run a short command to completion; stdin is written once, stdout returned. */
export async function runCommand(
  command: string,
  args: string[],
  options: { input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<string> {
  // stdin is a pipe only when there is input: a command that exits without reading it would
  // otherwise raise an unhandled EPIPE on our side.
  const child = spawn(command, args, {
    cwd: options.cwd,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 30_000,
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  if (options.input !== undefined) {
    child.stdin?.on('error', () => {
      // The command exited before reading all of its input: its exit code tells the story.
    });
    child.stdin?.end(options.input);
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error) =>
      reject(new RealPartsError('COMMAND_FAILED', `cannot run ${command}`, { cause: error })),
    );
    child.once('close', resolve);
  });
  if (code !== 0) {
    // The command line is named but not its arguments or input: they may hold a password.
    const detail = Buffer.concat(stderr).toString('utf8').trim().slice(0, 500);
    throw new RealPartsError('COMMAND_FAILED', `${command} exited with ${code}: ${detail}`);
  }
  return Buffer.concat(stdout).toString('utf8');
}

/** Remove a directory tree, retrying while files are busy (vfs layers, late unmounts). */
export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}

/** Poll `check` until it returns true; throws with `describe()` after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; abortIf?: () => boolean },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (options.abortIf?.()) return false;
    if (await check()) return true;
    await delay(options.intervalMs ?? 50);
  }
  return false;
}
