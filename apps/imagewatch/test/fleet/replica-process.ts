/**
 * An imagewatch replica as its own process (`src/main.ts run` through tsx), so a test can
 * SIGKILL it as an operator's orchestrator would. Log lines are parsed as JSON.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { getFreePort } from '@molecule/real-parts';

const appDir = fileURLToPath(new URL('../..', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string; time?: string };

export interface ReplicaProcess {
  readonly name: string;
  readonly url: string;
  readonly lines: readonly LogLine[];
  readonly exited: Promise<number | null>;
  waitForLine(
    predicate: (line: LogLine) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<LogLine>;
  /** `imagewatch_leader` from /metrics (undefined when it does not answer). */
  leaderGauge(): Promise<number | undefined>;
  health(): Promise<{ status: number; body: Record<string, unknown> } | undefined>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startReplica(
  name: string,
  env: Readonly<Record<string, string>>,
): Promise<ReplicaProcess> {
  const port = await getFreePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@molecule/source', 'src/main.ts', 'run'],
    {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '', ...env, IMAGE_WATCH_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: LogLine[] = [];
  const onText = (text: string) => {
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      lines.push({ msg: text });
    }
  };
  if (child.stdout) createInterface({ input: child.stdout }).on('line', onText);
  if (child.stderr) createInterface({ input: child.stderr }).on('line', onText);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  const get = async (path: string) => {
    try {
      const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(2_000) });
      return { status: response.status, text: await response.text() };
    } catch {
      return undefined;
    }
  };
  return {
    name,
    url,
    lines,
    exited,
    async waitForLine(predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(predicate);
        if (found !== undefined) return found;
        if (Date.now() > deadline || child.exitCode !== null) {
          const tail = lines
            .slice(-20)
            .map((l) => JSON.stringify(l))
            .join('\n');
          throw new Error(`${name}: no ${what} within ${timeoutMs} ms; last lines:\n${tail}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async leaderGauge() {
      const metrics = await get('/metrics');
      const match = metrics?.text.match(/^imagewatch_leader (\d+)$/m);
      return match === null || match === undefined ? undefined : Number(match[1]);
    },
    async health() {
      const answer = await get('/healthz');
      return answer === undefined
        ? undefined
        : { status: answer.status, body: JSON.parse(answer.text) as Record<string, unknown> };
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
