import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { e2eConfig } from './e2e-config.js';

const require = createRequire(import.meta.url);
const sourceDir = dirname(fileURLToPath(import.meta.url));
const e2eRoot = join(sourceDir, '..');
const recorderPreload = join(sourceDir, 'connection-recorder.preload.mjs');

export type ServiceName = 'admin-api' | 'imagewatch';

/** A pino JSON log line, as the services write them. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface ServiceProcess {
  readonly name: ServiceName;
  /** The process id (for /proc sampling). */
  readonly pid: number;
  readonly lines: readonly LogLine[];
  readonly exited: Promise<number | null>;
  waitForLine(
    predicate: (line: LogLine) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<LogLine>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartServiceOptions {
  readonly args?: readonly string[];
  /** The whole environment of the process: nothing is inherited but PATH. */
  readonly env: Readonly<Record<string, string>>;
  /** Where the connection recorder writes; omitted: no recorder. */
  readonly connectionLog?: string;
  readonly onLine?: (line: LogLine, service: ServiceName) => void;
}

/**
 * Resolves a service's built bin (dist/main.js) through the workspace link in this
 * package's node_modules and the service's own package.json `bin`, as npm would.
 */
export function serviceBin(name: ServiceName): string {
  const packageJsonPath = join(e2eRoot, 'node_modules', '@molecule', name, 'package.json');
  const packageJson = require(packageJsonPath) as { bin: Record<string, string> };
  const bin = packageJson.bin[name];
  if (!bin) throw new Error(`@molecule/${name} declares no bin "${name}"`);
  return join(dirname(packageJsonPath), bin);
}

/**
 * Starts a built service exactly as an operator would: its bin, configured by env only.
 * stdout/stderr lines are parsed as JSON where they are JSON and kept as `{ msg }` otherwise.
 */
export function startService(name: ServiceName, options: StartServiceOptions): ServiceProcess {
  const nodeOptions = options.connectionLog ? `--import=${recorderPreload}` : '';
  const child: ChildProcess = spawn(process.execPath, [serviceBin(name), ...(options.args ?? [])], {
    env: {
      PATH: e2eConfig.path,
      NODE_OPTIONS: nodeOptions,
      ...(options.connectionLog ? { MOLECULE_E2E_CONNECTION_LOG: options.connectionLog } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<{
    predicate: (line: LogLine) => boolean;
    resolve: (line: LogLine) => void;
  }>();
  const onText = (text: string) => {
    let line: LogLine;
    try {
      const parsed: unknown = JSON.parse(text);
      line = typeof parsed === 'object' && parsed !== null ? (parsed as LogLine) : { msg: text };
    } catch {
      line = { msg: text };
    }
    lines.push(line);
    options.onLine?.(line, name);
    for (const waiter of waiters) {
      if (waiter.predicate(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  };
  if (child.stdout) createInterface({ input: child.stdout }).on('line', onText);
  if (child.stderr) createInterface({ input: child.stderr }).on('line', onText);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  return {
    name,
    pid: child.pid ?? 0,
    lines,
    exited,
    waitForLine(predicate, timeoutMs, what) {
      const seen = lines.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const tail = lines
            .slice(-15)
            .map((line) => JSON.stringify(line))
            .join('\n');
          reject(
            new Error(
              `${name}: timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${tail}`,
            ),
          );
        }, timeoutMs);
        waiter.resolve = (line) => {
          clearTimeout(timer);
          resolve(line);
        };
        waiters.add(waiter);
        void exited.then((code) => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          const tail = lines
            .slice(-15)
            .map((line) => JSON.stringify(line))
            .join('\n');
          reject(
            new Error(`${name} exited (${code}) while waiting for ${what}; last lines:\n${tail}`),
          );
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}
