/**
 * Refresh all 9 runtimes after each moved, against a real dockerd and a loopback
 * distribution registry: the service (POST /admin/workspace-images/refresh) side by side with
 * what the replaced shell script did (`docker pull` each image in turn, then `docker rm -f`
 * of matching ws-* containers). Prints times, the ratio and the service's RSS.
 *
 * Run: pnpm --filter @molecule/admin-api bench  (needs dockerd, docker-registry, busybox, docker)
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  buildImage,
  missingRealParts,
  pushImage,
  startDistribution,
  startDockerd,
} from '@molecule/real-parts';
import { KNOWN_RUNTIMES } from '@molecule/registry';
import Docker from 'dockerode';

const run = promisify(execFile);
const CONTAINERS_PER_RUNTIME = 2;
const TOKEN = 'bench-admin-token';

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function main(): Promise<void> {
  const missing = missingRealParts(['dockerd', 'docker-registry', 'busybox', 'docker']);
  if (missing) throw new Error(`cannot run the benchmark: ${missing}`);
  const registry = await startDistribution({ auth: 'none' });
  const dockerd = await startDockerd({ insecureRegistries: [registry.host] });
  const docker = new Docker({ socketPath: dockerd.socketPath });
  const prefix = `${registry.host}/molecule-ai`;
  const image = (rt: string) => `${prefix}/workspace-template-${rt}:latest`;
  let service: ChildProcess | undefined;
  try {
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
    let serial = 0;
    const createWorkspaces = async () => {
      for (const rt of KNOWN_RUNTIMES) {
        for (let i = 0; i < CONTAINERS_PER_RUNTIME; i++) {
          const container = await docker.createContainer({
            name: `ws-${rt}-${serial++}`,
            Image: image(rt),
            HostConfig: { NetworkMode: 'none' },
          });
          await container.start();
        }
      }
    };
    const countWorkspaces = async () =>
      (await docker.listContainers({ all: true })).filter((c) => c.Names[0]?.startsWith('/ws-'))
        .length;

    // The service, as its own process, so its RSS is its own.
    const root = fileURLToPath(new URL('..', import.meta.url));
    const built = existsSync(`${root}dist/main.js`);
    const args = built
      ? ['dist/main.js']
      : ['--conditions=@molecule/source', '--import', 'tsx', 'src/main.ts'];
    service = spawn(process.execPath, args, {
      cwd: root,
      env: {
        ...process.env,
        MOLECULE_ADMIN_TOKEN: TOKEN,
        MOLECULE_IMAGE_REGISTRY: prefix,
        DOCKER_HOST: dockerd.dockerHost,
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
      await new Promise((r) => setTimeout(r, 50));
    }
    const port = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
    const pid = service.pid as number;

    // Round 0: every runtime published and present locally, workspaces running on it.
    await publishAll('v1');
    await pullAllDirect();
    await createWorkspaces();
    await new Promise((r) => setTimeout(r, 2000));
    const idleRss = rssMiB(pid);

    // Service: every runtime moved.
    await publishAll('v2');
    let peakRss = idleRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssMiB(pid));
    }, 20);
    const serviceStart = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/admin/workspace-images/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/x-ndjson' },
    });
    let pullsDoneMs = 0;
    let body = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      body += decoder.decode(chunk, { stream: true });
      if (
        /"event":"pulled"/.test(body) &&
        (body.match(/"event":"pulled"/g) ?? []).length === 9 &&
        !pullsDoneMs
      ) {
        pullsDoneMs = performance.now() - serviceStart;
      }
    }
    const lines = body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const result = lines.at(-1).result as {
      pulled: string[];
      failed: string[];
      recreated: string[];
    };
    const serviceMs = performance.now() - serviceStart;
    clearInterval(sampler);
    if (response.status !== 200 || result.pulled.length !== 9) {
      throw new Error(`service refresh failed: ${response.status} ${JSON.stringify(result)}`);
    }
    const serviceRecreated = result.recreated.length;

    // Shell: same starting point (workspaces on the current image, every runtime moved).
    await createWorkspaces();
    await publishAll('v3');
    const script = `
      set -e
      for rt in ${KNOWN_RUNTIMES.join(' ')}; do
        docker -H ${dockerd.dockerHost} pull -q "${prefix}/workspace-template-$rt:latest" >/dev/null
      done
      ids=$(docker -H ${dockerd.dockerHost} ps -aq --filter name=^/ws-)
      # the list shows an image id once a tag moved, so read the configured reference
      docker -H ${dockerd.dockerHost} inspect -f '{{.Name}} {{.Config.Image}}' $ids |
      while read -r name img; do
        case "$img" in
          */workspace-template-*) docker -H ${dockerd.dockerHost} rm -f "\${name#/}" >/dev/null ;;
        esac
      done`;
    const before = await countWorkspaces();
    const shellStart = performance.now();
    const pullsOnly = script.slice(0, script.indexOf('      ids='));
    await run('bash', ['-c', pullsOnly]);
    const shellPullMs = performance.now() - shellStart;
    await run('bash', ['-c', script.slice(script.indexOf('      ids='))]);
    const shellMs = performance.now() - shellStart;
    const shellRemoved = before - (await countWorkspaces());

    const report = {
      runtimes: KNOWN_RUNTIMES.length,
      workspaces: KNOWN_RUNTIMES.length * CONTAINERS_PER_RUNTIME,
      service: {
        ms: Math.round(serviceMs),
        pulls_ms: Math.round(pullsDoneMs),
        recreated: serviceRecreated,
        process: built ? 'dist/main.js' : 'tsx src/main.ts',
      },
      shell: { ms: Math.round(shellMs), pulls_ms: Math.round(shellPullMs), removed: shellRemoved },
      ratio_shell_over_service: Number((shellMs / serviceMs).toFixed(2)),
      service_rss_mib: {
        idle: Number(idleRss.toFixed(1)),
        peak_during_refresh: Number(peakRss.toFixed(1)),
      },
      engine_api: dockerd.apiVersion,
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
    await dockerd.close();
    await registry.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
