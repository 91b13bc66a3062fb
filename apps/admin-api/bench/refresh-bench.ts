/**
 * Refresh all 9 runtimes after each moved, against a real dockerd and a loopback
 * distribution registry: the service (POST /admin/workspace-images/refresh) side by side with
 * what the replaced shell script did (`docker pull` each image in turn, then `docker rm -f`
 * of matching ws-* containers), and with the shell doing what the service does (a graceful
 * `docker stop` before `docker rm`). Every side starts from the same state (18 running
 * workspaces on the current images, every runtime moved) and talks to the engine through the
 * same timing proxy (engine-trace.ts), which accounts for each engine call: phases, each
 * container's stop and remove, and the time no call was in flight. Prints the engine's storage
 * driver too: removal on `vfs` does not cost what it costs on an `overlay2` host.
 *
 * Run: pnpm --filter @molecule/admin-api bench  (needs dockerd, docker-registry, busybox, docker)
 * REFRESH_BENCH_WORKLOAD=loop: workspaces that run real-parts' default command, a
 * `sleep 1` loop whose TERM trap only runs once the current sleep ends (up to 1 s late).
 * REFRESH_BENCH_GRACEFUL_SHELL=0: skip the graceful shell side (with `loop` it takes ~15 s).
 * REFRESH_BENCH_SERVICE=<path below apps/admin-api>: another build of the service to bench.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  buildImage,
  DEFAULT_CMD,
  missingRealParts,
  pushImage,
  startDistribution,
  startDockerd,
} from '@molecule/real-parts';
import { KNOWN_RUNTIMES } from '@molecule/registry';
import Docker from 'dockerode';
import { startEngineTrace } from './engine-trace.js';
import { reportSide } from './phase-report.js';

const run = promisify(execFile);
const CONTAINERS_PER_RUNTIME = 2;
const TOKEN = 'bench-admin-token';
/** Let every workspace's shell reach its `trap` before a side starts. */
const SETTLE_MS = 1000;

/**
 * The workspaces' command: both exit 0 on SIGTERM (busybox sh as PID 1 would otherwise ignore
 * it and every graceful stop would wait out the grace period). `wait` is interrupted by a
 * trapped signal, so that one exits at once; a foreground `sleep 1` defers the trap.
 */
const WORKLOADS = {
  wait: ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"],
  loop: [...DEFAULT_CMD],
} as const;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const missing = missingRealParts(['dockerd', 'docker-registry', 'busybox', 'docker']);
  if (missing) throw new Error(`cannot run the benchmark: ${missing}`);
  const workloadName = process.env.REFRESH_BENCH_WORKLOAD ?? 'wait';
  if (workloadName !== 'wait' && workloadName !== 'loop') {
    throw new Error(`REFRESH_BENCH_WORKLOAD: expected wait or loop, got ${workloadName}`);
  }
  const workload = WORKLOADS[workloadName];
  const registry = await startDistribution({ auth: 'none' });
  const dockerd = await startDockerd({ insecureRegistries: [registry.host] });
  const trace = await startEngineTrace(dockerd.socketPath);
  const docker = new Docker({ socketPath: dockerd.socketPath });
  const prefix = `${registry.host}/molecule-ai`;
  const image = (rt: string) => `${prefix}/workspace-template-${rt}:latest`;
  let service: ChildProcess | undefined;
  try {
    const info = await docker.info();
    const publishAll = async (round: string) => {
      await Promise.all(
        KNOWN_RUNTIMES.map(async (rt) =>
          pushImage({
            registryUrl: registry.url,
            repository: `molecule-ai/workspace-template-${rt}`,
            tag: 'latest',
            image: await buildImage({ salt: `${rt}-${round}` }),
          }),
        ),
      );
    };
    const pullAllDirect = async () => {
      for (const rt of KNOWN_RUNTIMES) {
        await run('docker', ['-H', dockerd.dockerHost, 'pull', '-q', image(rt)]);
      }
    };
    /** Container names by id, for the per-container report. */
    const names = new Map<string, string>();
    const nameOf = (ref: string) =>
      ref.startsWith('ws-')
        ? ref
        : [...names].find(([id]) => id.startsWith(ref) || ref.startsWith(id))?.[1];
    let serial = 0;
    const createWorkspaces = async () => {
      for (const rt of KNOWN_RUNTIMES) {
        for (let i = 0; i < CONTAINERS_PER_RUNTIME; i++) {
          const name = `ws-${rt}-${serial++}`;
          const container = await docker.createContainer({
            name,
            Image: image(rt),
            Cmd: [...workload],
            HostConfig: { NetworkMode: 'none' },
          });
          await container.start();
          names.set(container.id, name);
        }
      }
    };
    const countWorkspaces = async () =>
      (await docker.listContainers({ all: true })).filter((c) => c.Names[0]?.startsWith('/ws-'))
        .length;

    // The service, as its own process, so its RSS is its own.
    const root = fileURLToPath(new URL('..', import.meta.url));
    const entry = process.env.REFRESH_BENCH_SERVICE ?? 'dist/main.js';
    const built = existsSync(`${root}${entry}`);
    const args = built
      ? [entry]
      : ['--conditions=@molecule/source', '--import', 'tsx', 'src/main.ts'];
    service = spawn(process.execPath, args, {
      cwd: root,
      env: {
        ...process.env,
        MOLECULE_ADMIN_TOKEN: TOKEN,
        MOLECULE_IMAGE_REGISTRY: prefix,
        DOCKER_HOST: trace.dockerHost,
        ADMIN_API_PORT: '0',
        ADMIN_API_STOP_GRACE_SECONDS: '10',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    service.stdout?.on('data', (chunk) => {
      out += chunk;
    });
    const until = Date.now() + 30_000;
    while (!/Server listening at http:\/\/127\.0\.0\.1:(\d+)/.test(out)) {
      if (Date.now() > until) throw new Error(`service did not start:\n${out}`);
      await sleep(50);
    }
    const port = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
    const pid = service.pid as number;

    // Round 0: every runtime published and present locally, workspaces running on it.
    await publishAll('v1');
    await pullAllDirect();
    await createWorkspaces();
    await sleep(2000);
    const idleRss = rssMiB(pid);

    // Service: every runtime moved.
    await publishAll('v2');
    await sleep(SETTLE_MS);
    trace.take();
    let peakRss = idleRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssMiB(pid));
    }, 20);
    const serviceStart = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/admin/workspace-images/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/x-ndjson' },
    });
    // When the NDJSON events reached the client: the service's own view of its phases.
    const seen = { pulled: [] as number[], removed: [] as number[] };
    let body = '';
    let pending = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      body += text;
      pending += text;
      const at = performance.now() - serviceStart;
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        if (line.includes('"event":"pulled"')) seen.pulled.push(at);
        if (line.includes('"event":"container-removed"')) seen.removed.push(at);
      }
    }
    const serviceMs = performance.now() - serviceStart;
    clearInterval(sampler);
    const serviceTrace = trace.take();
    const lines = body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const result = lines.at(-1).result as {
      pulled: string[];
      failed: string[];
      recreated: string[];
    };
    if (response.status !== 200 || result.pulled.length !== 9) {
      throw new Error(`service refresh failed: ${response.status} ${JSON.stringify(result)}`);
    }

    // Shell: same starting point (workspaces on the current image, every runtime moved).
    const host = trace.dockerHost;
    const pulls = `
      set -e
      for rt in ${KNOWN_RUNTIMES.join(' ')}; do
        docker -H ${host} pull -q "${prefix}/workspace-template-$rt:latest" >/dev/null
      done`;
    // the list shows an image id once a tag moved, so read the configured reference
    const matching = `
      ids=$(docker -H ${host} ps -aq --filter name=^/ws-)
      docker -H ${host} inspect -f '{{.Name}} {{.Config.Image}}' $ids |
      while read -r name img; do
        case "$img" in
          */workspace-template-*) `;
    const shellSide = async (round: string, removal: string) => {
      await createWorkspaces();
      await publishAll(round);
      await sleep(SETTLE_MS);
      const before = await countWorkspaces();
      trace.take();
      const start = performance.now();
      await run('bash', ['-c', `${pulls}\n${matching}${removal} ;;\n esac\n done`]);
      const ms = performance.now() - start;
      const taken = trace.take();
      const removed = before - (await countWorkspaces());
      return { start, ms, removed, ...taken };
    };
    const shell = await shellSide('v3', `docker -H ${host} rm -f "\${name#/}" >/dev/null`);
    const graceful =
      process.env.REFRESH_BENCH_GRACEFUL_SHELL === '0'
        ? undefined
        : await shellSide(
            'v4',
            `docker -H ${host} stop -t 10 "\${name#/}" >/dev/null && docker -H ${host} rm "\${name#/}" >/dev/null`,
          );

    const pullsDone = (report: ReturnType<typeof reportSide>) =>
      Math.max(report.phases.pull?.to_ms ?? 0, report.phases['image-inspect']?.to_ms ?? 0);
    const serviceReport = reportSide(
      serviceTrace.calls,
      serviceTrace.connections,
      serviceStart,
      serviceMs,
      nameOf,
    );
    const shellReport = reportSide(shell.calls, shell.connections, shell.start, shell.ms, nameOf);
    const gracefulReport =
      graceful &&
      reportSide(graceful.calls, graceful.connections, graceful.start, graceful.ms, nameOf);
    const report = {
      runtimes: KNOWN_RUNTIMES.length,
      workspaces: KNOWN_RUNTIMES.length * CONTAINERS_PER_RUNTIME,
      workload: { name: workloadName, cmd: workload.join(' ') },
      engine: {
        api: dockerd.apiVersion,
        version: info.ServerVersion,
        storage_driver: info.Driver,
        cpus: info.NCPU,
      },
      service: {
        ms: Math.round(serviceMs),
        pulls_ms: Math.round(pullsDone(serviceReport)),
        removal_ms: Math.round(serviceMs - pullsDone(serviceReport)),
        recreated: result.recreated.length,
        ndjson: {
          last_pulled_ms: Math.round(Math.max(0, ...seen.pulled)),
          first_removed_ms: Math.round(Math.min(...seen.removed)),
          last_removed_ms: Math.round(Math.max(0, ...seen.removed)),
        },
        process: built ? entry : 'tsx src/main.ts',
      },
      shell: {
        ms: Math.round(shell.ms),
        pulls_ms: Math.round(pullsDone(shellReport)),
        removal_ms: Math.round(shell.ms - pullsDone(shellReport)),
        removed: shell.removed,
      },
      shell_graceful: graceful &&
        gracefulReport && {
          ms: Math.round(graceful.ms),
          pulls_ms: Math.round(pullsDone(gracefulReport)),
          removal_ms: Math.round(graceful.ms - pullsDone(gracefulReport)),
          removed: graceful.removed,
        },
      ratio_service_over_shell: Number((serviceMs / shell.ms).toFixed(2)),
      ratio_service_over_shell_graceful: graceful && Number((serviceMs / graceful.ms).toFixed(2)),
      service_rss_mib: {
        idle: Number(idleRss.toFixed(1)),
        peak_during_refresh: Number(peakRss.toFixed(1)),
      },
      engine_calls: {
        service: serviceReport,
        shell: shellReport,
        shell_graceful: gracefulReport,
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    if (service && service.exitCode === null) {
      service.kill('SIGTERM');
      await new Promise((r) => service?.once('exit', r));
    }
    for (const c of await docker.listContainers({ all: true }).catch(() => [])) {
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    }
    await trace.close();
    await dockerd.close();
    await registry.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
